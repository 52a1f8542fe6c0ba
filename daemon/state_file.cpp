#include "daemon/state_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lib/error.hpp"
#include "lib/fd.hpp"

namespace vepad {

std::optional<nlohmann::json> StateFile::load() const
{
    std::ifstream in(path_);
    if (!in) {
        if (errno == ENOENT)
            return std::nullopt;
        throw vepa::SysError(errno, "state file " + path_);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    try {
        return nlohmann::json::parse(ss.str());
    } catch (const nlohmann::json::parse_error& e) {
        throw vepa::Error("state file " + path_ + " is corrupt (" + e.what() +
                          "); vepad will not replace it: repair or remove it, then start vepad again");
    }
}

void StateFile::save(const nlohmann::json& j) const
{
    namespace fs = std::filesystem;
    const fs::path target(path_);
    const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
    std::error_code ec;
    fs::create_directories(dir, ec);
    const std::string tmp = path_ + ".tmp." + std::to_string(::getpid());
    const std::string text = j.dump(2) + "\n";
    auto fail = [&](int err, const std::string& what) {
        ::unlink(tmp.c_str());
        throw vepa::SysError(err, what + " " + tmp + " (state file " + path_ + " unchanged)");
    };
    {
        vepa::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
        if (!fd)
            fail(errno, "create");
        size_t off = 0;
        while (off < text.size()) {
            const ssize_t n = ::write(fd.get(), text.data() + off, text.size() - off);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                fail(errno, "write");
            }
            off += static_cast<size_t>(n);
        }
        if (::fsync(fd.get()) != 0)
            fail(errno, "fsync");
    }
    if (::rename(tmp.c_str(), path_.c_str()) != 0)
        fail(errno, "rename");
    vepa::UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd)
        ::fsync(dfd.get());
}

} // namespace vepad
