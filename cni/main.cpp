// vepa - a CNI plugin (spec 1.0.0) that attaches a container to vepad: a veth pair
// whose host end becomes a vepad port.  See README.md, "CNI plugin".
#include <iostream>
#include <iterator>

#include "cni/commands.hpp"
#include "cni/error.hpp"

using namespace vepa::cni;

namespace {

std::string read_stdin() { return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()}; }

nlohmann::json run(const Env& env, const std::string& input)
{
    if (env.command == "VERSION")
        return cmd_version();
    const Config cfg = parse_config(input);
    if (env.command == "ADD")
        return cmd_add(env, cfg);
    if (env.command == "DEL")
        return cmd_del(env, cfg);
    return cmd_check(env, cfg);
}

int fail(int code, const std::string& msg, const std::string& details)
{
    nlohmann::json e = {{"cniVersion", kSpecVersion}, {"code", code}, {"msg", msg}};
    if (!details.empty())
        e["details"] = details;
    std::cout << e.dump() << std::endl;
    return 1;
}

} // namespace

int main()
{
    try {
        const Env env = read_env();
        const std::string input = env.command == "VERSION" ? "" : read_stdin();
        const nlohmann::json out = run(env, input);
        if (!out.is_null())
            std::cout << out.dump() << std::endl;
        return 0;
    } catch (const CniError& e) {
        return fail(e.code(), e.what(), e.details());
    } catch (const std::exception& e) {
        return fail(999, "internal error", e.what());
    }
}
