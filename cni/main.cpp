// vepa - a CNI plugin (spec 1.1.0, 1.0.0 and 0.4.0) that attaches a container to vepad:
// a veth pair whose host end becomes a vepad port.  See README.md, "CNI plugin".
#include <iostream>
#include <iterator>

#include "cni/commands.hpp"
#include "cni/error.hpp"

using namespace vepa::cni;

namespace {

std::string read_stdin() { return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()}; }

// The version results and errors are written in: the config's when it is one the plugin
// speaks, else the newest.
std::string reply_version(const std::string& input)
{
    const auto j = nlohmann::json::parse(input, nullptr, false);
    if (j.is_object() && j.contains("cniVersion") && j["cniVersion"].is_string())
        for (const char* v : kSpecVersions)
            if (j["cniVersion"] == v)
                return v;
    return kSpecVersion;
}

nlohmann::json run(const Env& env, const std::string& input)
{
    if (env.command == "VERSION")
        return cmd_version(reply_version(input));
    const Config cfg = parse_config(input);
    if (env.command == "ADD")
        return cmd_add(env, cfg);
    if (env.command == "DEL")
        return cmd_del(env, cfg);
    if (env.command == "GC")
        return cmd_gc(env, cfg);
    if (env.command == "STATUS")
        return cmd_status(cfg);
    return cmd_check(env, cfg);
}

int fail(const std::string& version, int code, const std::string& msg, const std::string& details)
{
    nlohmann::json e = {{"cniVersion", version}, {"code", code}, {"msg", msg}};
    if (!details.empty())
        e["details"] = details;
    std::cout << e.dump() << std::endl;
    return 1;
}

} // namespace

int main()
{
    std::string input;
    try {
        input = read_stdin(); // first: an error about the environment is written in the config's version
        const Env env = read_env();
        const nlohmann::json out = run(env, input);
        if (!out.is_null())
            std::cout << out.dump() << std::endl;
        return 0;
    } catch (const CniError& e) {
        return fail(reply_version(input), e.code(), e.what(), e.details());
    } catch (const std::exception& e) {
        return fail(reply_version(input), 999, "internal error", e.what());
    }
}
