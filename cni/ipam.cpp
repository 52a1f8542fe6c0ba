#include "cni/ipam.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <vector>

#include "cni/error.hpp"

extern char** environ;

namespace vepa::cni {
namespace {

std::string find_plugin(const Env& env, const std::string& type)
{
    std::stringstream ss(env.path);
    std::string dir;
    while (std::getline(ss, dir, ':')) {
        if (dir.empty())
            continue;
        std::string p = dir + "/" + type;
        if (::access(p.c_str(), X_OK) == 0)
            return p;
    }
    throw CniError(kIpamFailed, "IPAM plugin '" + type + "' not found in CNI_PATH", env.path);
}

// Write all of `in` to fd (then close it), read everything from out_fd; returns the output.
std::string exchange(int in_fd, int out_fd, const std::string& in)
{
    ::signal(SIGPIPE, SIG_IGN);
    size_t off = 0;
    while (off < in.size()) {
        ssize_t n = ::write(in_fd, in.data() + off, in.size() - off);
        if (n <= 0)
            break;
        off += static_cast<size_t>(n);
    }
    ::close(in_fd);
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(out_fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(out_fd);
    return out;
}

// Runs path with CNI_COMMAND=command; returns (exit status, stdout).
std::pair<int, std::string> run(const std::string& path, const std::string& command, const std::string& input)
{
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
        throw CniError(kIpamFailed, "pipe: " + std::string(strerror(errno)));
    const pid_t pid = ::fork();
    if (pid < 0)
        throw CniError(kIpamFailed, "fork: " + std::string(strerror(errno)));
    if (pid == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::setenv("CNI_COMMAND", command.c_str(), 1);
        ::execl(path.c_str(), path.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    std::string output = exchange(in[1], out[0], input);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128, output};
}

[[noreturn]] void plugin_failed(const std::string& type, const std::string& command, int rc, const std::string& out)
{
    auto j = nlohmann::json::parse(out, nullptr, false);
    std::string msg = "IPAM plugin " + type + " " + command + " failed (exit status " + std::to_string(rc) + ")";
    if (j.is_object() && j.contains("msg") && j["msg"].is_string())
        msg += ": " + j["msg"].get<std::string>();
    throw CniError(kIpamFailed, msg, j.is_object() ? j.value("details", "") : out);
}

} // namespace

nlohmann::json run_ipam(const Env& env, const Config& cfg, const std::string& command)
{
    const std::string path = find_plugin(env, cfg.ipam_type);
    auto [rc, out] = run(path, command, cfg.raw.dump());
    if (rc != 0)
        plugin_failed(cfg.ipam_type, command, rc, out);
    if (command != "ADD")
        return nullptr;
    auto j = nlohmann::json::parse(out, nullptr, false);
    if (!j.is_object())
        throw CniError(kIpamFailed, "IPAM plugin " + cfg.ipam_type + " returned no JSON object", out);
    return j;
}

} // namespace vepa::cni
