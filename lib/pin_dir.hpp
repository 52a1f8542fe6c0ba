// The directory a dataplane's maps are pinned in: on bpffs (mounted on
// /sys/fs/bpf when the directory lives there and nothing is mounted yet), and
// held under an exclusive lock for as long as one dataplane uses it, so two
// loaders never manage the same maps.
#pragma once

#include <string>

#include "lib/error.hpp"
#include "lib/fd.hpp"

namespace vepa {

// Another process holds the directory's lock.
class PinDirBusy : public Error {
public:
    using Error::Error;
};

class PinDir {
public:
    // Create the directory (and bpffs, see above) and lock it; throws PinDirBusy
    // when another process holds it, Error/SysError on anything else.
    explicit PinDir(std::string path);
    const std::string& path() const { return path_; }
    // Whether this call mounted bpffs on /sys/fs/bpf.
    bool mounted_bpffs() const { return mounted_; }

private:
    std::string path_;
    bool mounted_ = false;
    UniqueFd lock_;
};

// True when path is on a bpffs mount.
bool is_bpffs(const std::string& path);

} // namespace vepa
