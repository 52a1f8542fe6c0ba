// libvirt/hook_error.hpp - why the hook failed, in a sentence libvirt shows the user
// (virsh prints a failed hook's stderr with its error).
#pragma once

#include <stdexcept>

namespace vepa::libvirt {

// Bad domain XML or vepad metadata: a mistake in the domain's definition.
class MetadataError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// vepad refused a request, or could not be reached for a port that requires it.
class VepadError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace vepa::libvirt
