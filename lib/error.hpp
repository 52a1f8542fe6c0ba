// Errors raised by the vepa library: what failed, on what, and why.
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

namespace vepa {

// A refused request or an impossible state, with a message for the operator.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A failed system call; code() holds the errno.
class SysError : public std::system_error {
public:
    SysError(int err, const std::string& what) : std::system_error(err < 0 ? -err : err, std::generic_category(), what)
    {}
};

// Throws SysError when a libbpf-style call (negative errno, or -1 with errno) failed.
inline int check_bpf(int ret, const std::string& what)
{
    if (ret < 0)
        throw SysError(ret == -1 ? errno : -ret, what);
    return ret;
}

} // namespace vepa
