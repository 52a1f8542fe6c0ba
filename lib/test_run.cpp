#include "lib/test_run.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cerrno>

#include "lib/error.hpp"

namespace vepa {

namespace {

// Room for what a program may add in front (a VLAN tag) or behind.
constexpr size_t kHeadroom = 256;

template <typename Ctx>
TestRun run(int prog_fd, Ctx& ctx, const std::vector<uint8_t>& frame, uint32_t repeat, const char* what)
{
    TestRun r;
    r.out.resize(frame.size() + kHeadroom);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = r.out.data(),
                .data_size_in = static_cast<uint32_t>(frame.size()),
                .data_size_out = static_cast<uint32_t>(r.out.size()), .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
                .repeat = static_cast<int>(repeat));
    if (bpf_prog_test_run_opts(prog_fd, &opts) != 0)
        throw SysError(errno, std::string(what) + " test run of a " + std::to_string(frame.size()) + "-byte frame");
    r.verdict = static_cast<int>(opts.retval);
    r.out.resize(opts.data_size_out);
    r.duration_ns = opts.duration;
    return r;
}

} // namespace

TestRun test_run_xdp(int prog_fd, int ifindex, const std::vector<uint8_t>& frame, uint32_t repeat)
{
    xdp_md ctx{};
    ctx.data_end = static_cast<uint32_t>(frame.size());
    ctx.ingress_ifindex = static_cast<uint32_t>(ifindex);
    return run(prog_fd, ctx, frame, repeat, "XDP");
}

TestRun test_run_tc(int prog_fd, int ifindex, const std::vector<uint8_t>& frame, uint32_t gso_size, uint32_t repeat)
{
    __sk_buff ctx{};
    ctx.ifindex = static_cast<uint32_t>(ifindex);
    ctx.gso_size = gso_size;
    ctx.gso_segs = gso_size ? 2 : 0;
    return run(prog_fd, ctx, frame, repeat, "TC");
}

} // namespace vepa
