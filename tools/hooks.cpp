// vepa-hooks - which of vepad's programs a device carries, as the kernel says:
// for the tests (Debian 12's bpftool 7.1 and iproute2 6.1 cannot show tcx).
//
//   vepa-hooks IFNAME [--netns NS]
#include <bpf/bpf.h>
#include <net/if.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "lib/attach.hpp"
#include "lib/fd.hpp"
#include "lib/netns.hpp"
#include "tools/cli.hpp"

namespace {

const char* kDescription = R"(vepa-hooks - vepad's programs on a device, as the kernel holds them

Prints one JSON object: {"xdp": {"id", "tag", "mode"} or null, "tc": {"id",
"tag", "hook", "both"} or null}.  tc is vepad's TC ingress program: hook "tcx"
or "clsact" (both: a cls_bpf filter of vepad's left under its tcx program).
Only programs named vepa_* count.

Exit status: 0 when IFNAME exists, 1 when it does not, 2 on a bad command line.)";

std::string tag_of(uint32_t id)
{
    vepa::UniqueFd fd(bpf_prog_get_fd_by_id(id));
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (!fd || bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0)
        return "";
    char hex[2 * BPF_TAG_SIZE + 1];
    for (int i = 0; i < BPF_TAG_SIZE; i++)
        std::snprintf(hex + 2 * i, 3, "%02x", info.tag[i]);
    return hex;
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app(kDescription, "vepa-hooks");
    std::string ifname, netns;
    app.add_option("IFNAME", ifname, "the device")->required()->check(vepa::tools::kIfname);
    app.add_option("--netns", netns, "its network namespace: a path or a name under /run/netns (default: this one)");
    vepa::tools::parse_or_exit(app, argc, argv);
    try {
        std::optional<vepa::ScopedNetns> in;
        if (!netns.empty())
            in.emplace(netns);
        const int ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
        if (!ifindex) {
            std::fprintf(stderr, "vepa-hooks: no device %s\n", ifname.c_str());
            return 1;
        }
        nlohmann::json out = {{"xdp", nullptr}, {"tc", nullptr}};
        if (const auto x = vepa::xdp_query(ifindex))
            out["xdp"] = {{"id", x->prog_id}, {"tag", tag_of(x->prog_id)}, {"mode", vepa::to_string(x->mode)}};
        if (const auto t = vepa::tc_query(ifindex))
            out["tc"] = {{"id", t->prog_id},
                         {"tag", tag_of(t->prog_id)},
                         {"hook", t->hook == vepa::TcHook::Tcx ? "tcx" : "clsact"},
                         {"both", t->both}};
        std::puts(out.dump().c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "vepa-hooks: %s\n", e.what());
        return 1;
    }
}
