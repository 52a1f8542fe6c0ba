// libvirt/help.hpp - the hook's --help: a manual page.
#pragma once

#include <string>

namespace vepa::libvirt {

std::string help_text();

} // namespace vepa::libvirt
