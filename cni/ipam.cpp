#include "cni/ipam.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <string_view>
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

// This process's environment with the CNI_* variables of env and command in place (GC
// calls the IPAM plugin for containers other than the runtime's, which names none).
std::vector<std::string> plugin_environment(const Env& env, const std::string& command)
{
    const std::pair<const char*, std::string> cni[] = {{"CNI_COMMAND", command},
                                                       {"CNI_CONTAINERID", env.container_id},
                                                       {"CNI_IFNAME", env.ifname},
                                                       {"CNI_NETNS", env.netns},
                                                       {"CNI_PATH", env.path}};
    std::vector<std::string> out;
    for (char** e = environ; *e; ++e) {
        bool replaced = false;
        for (const auto& [k, v] : cni)
            replaced |= std::string_view(*e).substr(0, std::strlen(k) + 1) == std::string(k) + "=";
        if (!replaced)
            out.emplace_back(*e);
    }
    for (const auto& [k, v] : cni)
        if (!v.empty())
            out.push_back(std::string(k) + "=" + v);
    return out;
}

// Runs path with the plugin environment; returns (exit status, stdout).
std::pair<int, std::string> run(const std::string& path, const std::vector<std::string>& environment,
                                const std::string& input)
{
    std::vector<char*> envp;
    for (const auto& e : environment)
        envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
        throw CniError(kIpamFailed, "pipe: " + std::string(strerror(errno)));
    const pid_t pid = ::fork();
    if (pid < 0)
        throw CniError(kIpamFailed, "fork: " + std::string(strerror(errno)));
    if (pid == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        char* const argv[] = {const_cast<char*>(path.c_str()), nullptr};
        ::execve(path.c_str(), argv, envp.data());
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

// The config for the IPAM plugin: as given, except that a 1.1.0 config goes to a plugin
// that does not speak 1.1.0 (Debian 12's host-local: up to 1.0.0) as 1.0.0, whose
// config and result 1.1.0 keeps (it only adds GC and STATUS).
std::string ipam_input(const Env& env, const Config& cfg, const std::string& path)
{
    if (cfg.cni_version != kSpecVersion)
        return cfg.raw.dump();
    auto [rc, out] = run(path, plugin_environment(env, "VERSION"), nlohmann::json{{"cniVersion", kSpecVersion}}.dump());
    const auto v = nlohmann::json::parse(out, nullptr, false);
    const auto supported = v.is_object() ? v.value("supportedVersions", nlohmann::json::array()) : nlohmann::json();
    if (rc != 0 || !supported.is_array() || std::find(supported.begin(), supported.end(), kSpecVersion) != supported.end())
        return cfg.raw.dump();
    nlohmann::json older = cfg.raw;
    older["cniVersion"] = "1.0.0";
    return older.dump();
}

} // namespace

nlohmann::json run_ipam(const Env& env, const Config& cfg, const std::string& command)
{
    const std::string path = find_plugin(env, cfg.ipam_type);
    auto [rc, out] = run(path, plugin_environment(env, command), ipam_input(env, cfg, path));
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
