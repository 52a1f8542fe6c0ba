#include "lib/attach.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <xdp/libxdp.h>

#include <cstdarg>
#include <cstdio>
#include <memory>
#include <vector>

#include "lib/error.hpp"
#include "lib/fd.hpp"

namespace vepa {

namespace {

constexpr const char* kOurPrefix = "vepa_";

bool is_ours(const char* name) { return name && std::string(name).rfind(kOurPrefix, 0) == 0; }

struct MultiprogCloser {
    void operator()(xdp_multiprog* mp) const { xdp_multiprog__close(mp); }
};
struct ProgramCloser {
    void operator()(xdp_program* p) const { xdp_program__close(p); }
};
using MultiprogPtr = std::unique_ptr<xdp_multiprog, MultiprogCloser>;
using ProgramPtr = std::unique_ptr<xdp_program, ProgramCloser>;

// What libxdp sees on the device; nullptr when nothing is attached.
MultiprogPtr get_multiprog(int ifindex)
{
    xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex);
    const long err = libxdp_get_error(mp);
    if (err == -ENOENT || (!err && !mp))
        return nullptr;
    if (err)
        throw SysError(static_cast<int>(err), "XDP query of ifindex " + std::to_string(ifindex));
    if (!xdp_multiprog__main_prog(mp) && !xdp_multiprog__hw_prog(mp)) {
        xdp_multiprog__close(mp);
        return nullptr;
    }
    return MultiprogPtr(mp);
}

XdpMode mode_of(const xdp_multiprog* mp)
{
    return xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB ? XdpMode::Generic : XdpMode::Native;
}

xdp_attach_mode libxdp_mode(XdpMode m) { return m == XdpMode::Generic ? XDP_MODE_SKB : XDP_MODE_NATIVE; }

uint32_t kernel_flags(XdpMode m) { return m == XdpMode::Generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE; }

// Our programs among those attached (legacy main program, or dispatcher components).
std::vector<xdp_program*> our_programs(const xdp_multiprog* mp)
{
    std::vector<xdp_program*> out;
    if (xdp_multiprog__is_legacy(mp)) {
        xdp_program* p = xdp_multiprog__main_prog(mp);
        if (p && is_ours(xdp_program__name(p)))
            out.push_back(p);
        return out;
    }
    for (xdp_program* p = xdp_multiprog__next_prog(nullptr, mp); p; p = xdp_multiprog__next_prog(p, mp))
        if (is_ours(xdp_program__name(p)))
            out.push_back(p);
    return out;
}

XdpAttachment fresh_attach(int ifindex, int prog_fd, XdpMode mode)
{
    ProgramPtr prog(xdp_program__from_fd(prog_fd));
    if (long err = libxdp_get_error(prog.get())) {
        prog.release();
        throw SysError(static_cast<int>(err), "libxdp program from fd");
    }
    const int err = xdp_program__attach(prog.get(), ifindex, libxdp_mode(mode), 0);
    if (err)
        throw SysError(err, "XDP attach (" + to_string(mode) + ") to ifindex " + std::to_string(ifindex));
    auto mp = get_multiprog(ifindex);
    if (!mp)
        throw Error("XDP attach to ifindex " + std::to_string(ifindex) + " left no program attached");
    return {xdp_program__id(prog.get()), mode_of(mp.get()), xdp_multiprog__is_legacy(mp.get())};
}

} // namespace

XdpAttachment xdp_attach(int ifindex, int prog_fd, XdpMode wanted)
{
    auto mp = get_multiprog(ifindex);
    if (!mp) {
        if (wanted != XdpMode::Auto)
            return fresh_attach(ifindex, prog_fd, wanted);
        try {
            return fresh_attach(ifindex, prog_fd, XdpMode::Native);
        } catch (const SysError&) {
            return fresh_attach(ifindex, prog_fd, XdpMode::Generic);
        }
    }

    const XdpMode current = mode_of(mp.get());
    const std::vector<xdp_program*> ours = our_programs(mp.get());
    const std::string where = "ifindex " + std::to_string(ifindex);

    if (xdp_multiprog__is_legacy(mp.get())) {
        if (ours.empty()) {
            xdp_program* p = xdp_multiprog__main_prog(mp.get());
            throw Error(where + " has XDP program '" + std::string(p ? xdp_program__name(p) : "?") + "' (id " +
                        std::to_string(p ? xdp_program__id(p) : 0) +
                        ") attached without a libxdp dispatcher; vepad will not replace it");
        }
        if (wanted != XdpMode::Auto && wanted != current)
            throw Error(where + " has vepad's XDP program in " + to_string(current) + " mode; detach it to change to " +
                        to_string(wanted));
        // Atomic swap of the program in place.
        LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = xdp_program__fd(ours.front()));
        check_bpf(bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_REPLACE | kernel_flags(current), &opts),
                  "XDP replace on " + where);
        bpf_prog_info info{};
        uint32_t len = sizeof(info);
        check_bpf(bpf_obj_get_info_by_fd(prog_fd, &info, &len), "program info");
        return {info.id, current, true};
    }

    // Under a dispatcher: add the new program, then remove the old ones, so a
    // program of ours is there at every moment.
    std::vector<uint32_t> old_ids;
    for (auto* p : ours)
        old_ids.push_back(xdp_program__id(p));
    XdpAttachment res = fresh_attach(ifindex, prog_fd, current);
    for (uint32_t id : old_ids) {
        if (id == res.prog_id)
            continue;
        ProgramPtr old(xdp_program__from_id(id));
        if (libxdp_get_error(old.get())) {
            old.release();
            continue;
        }
        if (int err = xdp_program__detach(old.get(), ifindex, libxdp_mode(current), 0))
            throw SysError(err, "XDP detach of old program " + std::to_string(id) + " on " + where);
    }
    return res;
}

std::optional<XdpAttachment> xdp_query(int ifindex)
{
    auto mp = get_multiprog(ifindex);
    if (!mp)
        return std::nullopt;
    const auto ours = our_programs(mp.get());
    if (ours.empty())
        return std::nullopt;
    return XdpAttachment{xdp_program__id(ours.front()), mode_of(mp.get()), xdp_multiprog__is_legacy(mp.get())};
}

bool xdp_detach(int ifindex)
{
    auto mp = get_multiprog(ifindex);
    if (!mp)
        return false;
    const auto ours = our_programs(mp.get());
    if (ours.empty())
        return false;
    const std::string where = "ifindex " + std::to_string(ifindex);
    if (xdp_multiprog__is_legacy(mp.get())) {
        LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = xdp_program__fd(ours.front()));
        const int err = bpf_xdp_detach(ifindex, XDP_FLAGS_REPLACE | kernel_flags(mode_of(mp.get())), &opts);
        if (err == -ENODEV)
            return false;
        check_bpf(err, "XDP detach on " + where);
        return true;
    }
    for (auto* p : ours)
        if (int err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp.get()), 0))
            throw SysError(err, "XDP detach on " + where);
    return true;
}

namespace {

constexpr auto kTcxIngress = static_cast<bpf_attach_type>(kTcxIngressAttachType);

std::string on(int ifindex) { return "ifindex " + std::to_string(ifindex); }

// Program ids attached at tcx ingress of ifindex, in run order (empty when
// the device is gone).
std::vector<uint32_t> tcx_programs(int ifindex)
{
    if (tc_hook_available() != TcHook::Tcx)
        return {};
    std::vector<uint32_t> ids(16);
    for (;;) {
        uint32_t count = ids.size();
        const int err = bpf_prog_query(ifindex, kTcxIngress, 0, nullptr, ids.data(), &count);
        if (err == -ENODEV || err == -ENXIO)
            return {};
        if (err == -ENOSPC && count > ids.size()) { // more programs than room: count says how many
            ids.resize(count);
            continue;
        }
        check_bpf(err, "tcx query on " + on(ifindex));
        ids.resize(count);
        return ids;
    }
}

// Our program at tcx ingress of ifindex, if any.
std::optional<uint32_t> tcx_ours(int ifindex)
{
    for (uint32_t id : tcx_programs(ifindex))
        if (is_ours(prog_name(id).c_str()))
            return id;
    return std::nullopt;
}

// The cls_bpf filter of ours on clsact ingress (what vepad attached before tcx,
// and still attaches where the kernel has no tcx).
std::optional<uint32_t> cls_query(int ifindex)
{
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
    LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
    const int err = bpf_tc_query(&hook, &opts);
    if (err == -ENOENT || err == -ENODEV || err == -EINVAL)
        return std::nullopt;
    check_bpf(err, "TC query on " + on(ifindex));
    return opts.prog_id;
}

void cls_attach(int ifindex, int prog_fd)
{
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
    int err = bpf_tc_hook_create(&hook);
    if (err && err != -EEXIST)
        throw SysError(err, "clsact on " + on(ifindex));
    LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE, .handle = kTcHandle,
                .priority = kTcPriority);
    err = bpf_tc_attach(&hook, &opts);
    if (err)
        throw SysError(err, "TC attach on " + on(ifindex));
}

bool cls_detach(int ifindex)
{
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
    LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
    const int err = bpf_tc_detach(&hook, &opts);
    if (err == -ENOENT || err == -ENODEV || err == -EINVAL)
        return false;
    check_bpf(err, "TC detach on " + on(ifindex));
    return true;
}

// Attach prog_fd at tcx ingress, replacing ours in place (BPF_F_REPLACE: one
// atomic swap in the device's program array) or appending after any others.
void tcx_attach(int ifindex, int prog_fd)
{
    LIBBPF_OPTS(bpf_prog_attach_opts, opts);
    UniqueFd old;
    if (const auto id = tcx_ours(ifindex)) {
        old = UniqueFd(bpf_prog_get_fd_by_id(*id));
        if (!old)
            throw SysError(errno, "program " + std::to_string(*id) + " on " + on(ifindex));
        opts.flags = BPF_F_REPLACE;
        opts.replace_prog_fd = old.get();
    }
    const int err = bpf_prog_attach_opts(prog_fd, ifindex, kTcxIngress, &opts);
    if (err == -EEXIST && old)
        return; // the same program is already there
    check_bpf(err, "tcx attach on " + on(ifindex));
}

bool tcx_detach(int ifindex)
{
    const auto id = tcx_ours(ifindex);
    if (!id)
        return false;
    UniqueFd fd(bpf_prog_get_fd_by_id(*id));
    if (!fd)
        return false; // detached meanwhile
    const int err = bpf_prog_detach2(fd.get(), ifindex, kTcxIngress);
    if (err == -ENOENT || err == -ENODEV)
        return false;
    check_bpf(err, "tcx detach on " + on(ifindex));
    return true;
}

} // namespace

TcHook tc_hook_available()
{
    static const TcHook hook = [] {
        // A query on loopback answers on kernels with tcx and is EINVAL before.
        uint32_t count = 0;
        return bpf_prog_query(1, kTcxIngress, 0, nullptr, nullptr, &count) == 0 ? TcHook::Tcx : TcHook::Clsact;
    }();
    return hook;
}

void tc_attach(int ifindex, int prog_fd, TcHook hook)
{
    if (hook == TcHook::Clsact) {
        cls_attach(ifindex, prog_fd);
        tcx_detach(ifindex);
        return;
    }
    // tcx runs before clsact and our verdict is final there: once attached,
    // the old filter sees no frame, and goes.
    tcx_attach(ifindex, prog_fd);
    cls_detach(ifindex);
}

std::optional<TcAttachment> tc_query(int ifindex)
{
    if (const auto id = tcx_ours(ifindex))
        return TcAttachment{*id, TcHook::Tcx, cls_query(ifindex).has_value()};
    if (const auto id = cls_query(ifindex))
        return TcAttachment{*id, TcHook::Clsact, false};
    return std::nullopt;
}

bool tc_detach(int ifindex)
{
    const bool tcx = tcx_detach(ifindex);
    return cls_detach(ifindex) || tcx;
}

std::string prog_name(uint32_t prog_id)
{
    UniqueFd fd(bpf_prog_get_fd_by_id(prog_id));
    if (!fd)
        return "";
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0)
        return "";
    return info.name;
}

namespace {
void (*g_log)(int, const char*) = nullptr;

int forward(int level, const char* fmt, va_list ap)
{
    if (!g_log)
        return 0;
    char buf[1024];
    const int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
    std::string s(buf);
    while (!s.empty() && s.back() == '\n')
        s.pop_back();
    g_log(level, s.c_str());
    return n;
}
int libbpf_fwd(enum libbpf_print_level level, const char* fmt, va_list ap)
{
    return level == LIBBPF_DEBUG ? 0 : forward(static_cast<int>(level), fmt, ap);
}
int libxdp_fwd(enum libxdp_print_level level, const char* fmt, va_list ap)
{
    return level == LIBXDP_DEBUG ? 0 : forward(static_cast<int>(level), fmt, ap);
}
} // namespace

void set_bpf_log(void (*fn)(int level, const char* msg))
{
    g_log = fn;
    libbpf_set_print(libbpf_fwd);
    libxdp_set_print(libxdp_fwd);
}

} // namespace vepa
