#include "lib/pin_dir.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/vfs.h>

#include <filesystem>

namespace vepa {

namespace fs = std::filesystem;

namespace {
constexpr const char* kBpffs = "/sys/fs/bpf";

// Mount bpffs on /sys/fs/bpf for a directory below it; false when it was there already.
bool mount_bpffs_for(const std::string& dir)
{
    if (dir.rfind(std::string(kBpffs) + "/", 0) != 0 || is_bpffs(kBpffs))
        return false;
    std::error_code ec;
    fs::create_directories(kBpffs, ec);
    if (::mount("bpf", kBpffs, "bpf", 0, "mode=0700") != 0)
        throw SysError(errno, std::string("mount bpffs on ") + kBpffs);
    return true;
}
} // namespace

bool is_bpffs(const std::string& path)
{
    struct statfs st {};
    return ::statfs(path.c_str(), &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

PinDir::PinDir(std::string path) : path_(std::move(path))
{
    mounted_ = mount_bpffs_for(path_);
    std::error_code ec;
    fs::create_directories(path_, ec);
    if (ec)
        throw SysError(ec.value(), "create pin directory " + path_);
    if (!is_bpffs(path_))
        throw Error("pin directory " + path_ + " is not on a bpffs mount (mount -t bpf bpf /sys/fs/bpf)");
    lock_ = UniqueFd(::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!lock_)
        throw SysError(errno, "open pin directory " + path_);
    if (::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            throw PinDirBusy(path_ + " is locked by another process");
        throw SysError(errno, "lock " + path_);
    }
}

} // namespace vepa
