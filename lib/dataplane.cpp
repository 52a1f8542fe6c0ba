#include "lib/dataplane.hpp"

#include <algorithm>
#include <filesystem>
#include <regex>

// The skeleton of the BPF object this build embeds (a test build embeds a variant).
#ifdef VEPA_SKEL_HEADER
#include VEPA_SKEL_HEADER
#else
#include "vepa.skel.h"
#endif

namespace vepa {

namespace fs = std::filesystem;

namespace {
const char* const kMapNames[] = {VEPA_MAP_MACS,     VEPA_MAP_PORTS,  VEPA_MAP_STATS,   VEPA_MAP_DEVS,
                                 VEPA_MAP_FLOOD,    VEPA_MAP_CONFIG, VEPA_MAP_XSKS,    VEPA_MAP_XSKPORTS,
                                 VEPA_MAP_VLANS,    VEPA_MAP_RXMACS, VEPA_MAP_EVENTS,  VEPA_MAP_MONITOR,
                                 VEPA_MAP_MONSTATE};

// The receive-filter record of vepad before 8192 records were too few
// (rxmacs): its entries move into the new map, then its pin goes, so the
// FDB entries it names stay vepad's to remove.
void adopt_old_rx_record(const std::string& dir, BpfMap<vepa_mac_key, uint32_t>& record)
{
    const std::string path = dir + "/" + VEPA_MAP_RXMACS_OLD;
    if (!fs::exists(path))
        return;
    for (const auto& [k, v] : BpfMap<vepa_mac_key, uint32_t>::open_pinned(path).entries())
        record.update(k, v);
    fs::remove(path);
}

int skel_map_fd(vepa_bpf* skel, const char* name)
{
    bpf_map* m = bpf_object__find_map_by_name(skel->obj, name);
    if (!m)
        throw Error(std::string("BPF object has no map ") + name);
    return bpf_map__fd(m);
}
} // namespace

// Adopt the map pinned at path if there is one; check that it is the map this
// object defines (type, sizes, capacity).  libbpf's own reuse also compares
// flags, which the kernel changes for devmaps (BPF_F_RDONLY_PROG).
bool reuse_pinned(bpf_map* m, const std::string& path)
{
    UniqueFd fd(bpf_obj_get(path.c_str()));
    if (!fd) {
        if (errno == ENOENT)
            return false;
        throw SysError(errno, "open pinned map " + path);
    }
    const bpf_map_info info = map_info(fd.get());
    if (info.type != bpf_map__type(m) || info.key_size != bpf_map__key_size(m) ||
        info.value_size != bpf_map__value_size(m) || info.max_entries != bpf_map__max_entries(m))
        throw LayoutMismatch("pinned map " + path + " (type " + std::to_string(info.type) + ", key " +
                             std::to_string(info.key_size) + " B, value " + std::to_string(info.value_size) + " B, " +
                             std::to_string(info.max_entries) +
                             " entries) is not this vepad's map of that name although it carries the same layout "
                             "version: stop the dataplane that created it (vepactl shutdown --detach) or remove " +
                             path + ", then restart vepad");
    check_bpf(bpf_map__reuse_fd(m, fd.get()), "reuse pinned map " + path);
    return true;
}

int Dataplane::map_fd(const std::string& name) const { return vepa::skel_map_fd(skel_, name.c_str()); }

std::vector<std::string> Dataplane::map_names() { return {std::begin(kMapNames), std::end(kMapNames)}; }

std::vector<std::string> Dataplane::foreign_pins(const std::string& dir)
{
    static const std::regex re("^(macs|ports|stats|devs|flood|config|xsks|xskports|vlans|rxmacs|rxrecord|events|monitor|monstate)_v([0-9]+)$");
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename();
        std::smatch m;
        if (std::regex_match(name, m, re) && std::stoul(m[2]) != VEPA_LAYOUT_VERSION)
            out.push_back(name);
    }
    std::sort(out.begin(), out.end());
    return out;
}

void Dataplane::unpin(const std::string& dir)
{
    std::error_code ec;
    for (const char* name : kMapNames)
        fs::remove(fs::path(dir) / name, ec);
    fs::remove(dir, ec); // only if empty
}

Dataplane::Dataplane(const DataplaneOptions& opts) : pin_dir_(opts.pin_dir)
{
    if (!pin_dir_.empty()) {
        pin_ = std::make_unique<PinDir>(pin_dir_);
        if (auto foreign = foreign_pins(pin_dir_); !foreign.empty()) {
            std::string list;
            for (const auto& f : foreign)
                list += (list.empty() ? "" : ", ") + f;
            throw LayoutMismatch("pin directory " + pin_dir_ + " holds maps of another layout version (" + list +
                                 "); this vepad uses layout " + std::to_string(VEPA_LAYOUT_VERSION) +
                                 ". Stop the dataplane with the vepad that created them (vepactl shutdown "
                                 "--detach), or remove them (rm " +
                                 pin_dir_ +
                                 "/*_v*) and restart vepad: "
                                 "ports are re-added from the state file, counters start again from zero");
        }
    }

    skel_ = vepa_bpf__open();
    if (!skel_)
        throw SysError(errno, "open BPF skeleton");
    try {
        std::vector<bpf_map*> to_pin;
        if (!pin_dir_.empty())
            for (const char* name : kMapNames)
                if (!reuse_pinned(bpf_object__find_map_by_name(skel_->obj, name), pin_dir_ + "/" + name))
                    to_pin.push_back(bpf_object__find_map_by_name(skel_->obj, name));
        if (const int err = vepa_bpf__load(skel_))
            throw SysError(err, "load of vepad's BPF programs" +
                                    (pin_dir_.empty() ? std::string() : " (maps pinned in " + pin_dir_ + ")"));
        for (bpf_map* m : to_pin) {
            const std::string path = pin_dir_ + "/" + bpf_map__name(m);
            check_bpf(bpf_map__pin(m, path.c_str()), "pin " + path);
        }

        macs_ = std::make_unique<MacMap>(dup_fd(skel_map_fd(skel_, VEPA_MAP_MACS), "macs"), VEPA_MAP_MACS);
        ports_ = std::make_unique<PortMap>(dup_fd(skel_map_fd(skel_, VEPA_MAP_PORTS), "ports"), VEPA_MAP_PORTS);
        stats_ = std::make_unique<StatsMap>(dup_fd(skel_map_fd(skel_, VEPA_MAP_STATS), "stats"), VEPA_MAP_STATS);
        devs_ = std::make_unique<DevMap>(dup_fd(skel_map_fd(skel_, VEPA_MAP_DEVS), "devs"), VEPA_MAP_DEVS);
        config_ = std::make_unique<ConfigMap>(dup_fd(skel_map_fd(skel_, VEPA_MAP_CONFIG), "config"), VEPA_MAP_CONFIG);
        xsks_ = std::make_unique<XskMap>(dup_fd(skel_map_fd(skel_, VEPA_MAP_XSKS), "xsks"), VEPA_MAP_XSKS);
        xskports_ =
            std::make_unique<XskPortMap>(dup_fd(skel_map_fd(skel_, VEPA_MAP_XSKPORTS), "xskports"), VEPA_MAP_XSKPORTS);
        vlans_ = std::make_unique<VlanMap>(dup_fd(skel_map_fd(skel_, VEPA_MAP_VLANS), "vlans"), VEPA_MAP_VLANS);
        rxmacs_ = std::make_unique<RxMacMap>(dup_fd(skel_map_fd(skel_, VEPA_MAP_RXMACS), "rxrecord"), VEPA_MAP_RXMACS);
        if (!pin_dir_.empty())
            adopt_old_rx_record(pin_dir_, *rxmacs_);
        flood_ = std::make_unique<FloodList>(dup_fd(skel_map_fd(skel_, VEPA_MAP_FLOOD), "flood"));
        monitor_ =
            std::make_unique<MonitorMap>(dup_fd(skel_map_fd(skel_, VEPA_MAP_MONITOR), "monitor"), VEPA_MAP_MONITOR);
        monstate_ =
            std::make_unique<MonStateMap>(dup_fd(skel_map_fd(skel_, VEPA_MAP_MONSTATE), "monstate"), VEPA_MAP_MONSTATE);
        events_ = dup_fd(skel_map_fd(skel_, VEPA_MAP_EVENTS), "events");
    } catch (...) {
        vepa_bpf__destroy(skel_);
        throw;
    }
}

Dataplane::~Dataplane() { vepa_bpf__destroy(skel_); }

const char* to_string(Program p)
{
    switch (p) {
    case Program::UplinkXdp:
        return "uplink_xdp";
    case Program::UplinkTc:
        return "uplink_tc";
    case Program::PortXdp:
        return "port_xdp";
    case Program::PortTc:
        return "port_tc";
    case Program::XskXdp:
        return "xsk_xdp";
    }
    return "?";
}

int Dataplane::prog_fd(Program p) const
{
    switch (p) {
    case Program::UplinkXdp:
        return uplink_xdp_fd();
    case Program::UplinkTc:
        return uplink_tc_fd();
    case Program::PortXdp:
        return port_xdp_fd();
    case Program::PortTc:
        return port_tc_fd();
    case Program::XskXdp:
        return xsk_xdp_fd();
    }
    throw Error("no such program");
}

uint32_t Dataplane::prog_id(Program p) const
{
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    check_bpf(bpf_obj_get_info_by_fd(prog_fd(p), &info, &len), std::string("info of program ") + to_string(p));
    return info.id;
}

int Dataplane::uplink_xdp_fd() const { return bpf_program__fd(skel_->progs.vepa_uplink_xdp); }
int Dataplane::uplink_tc_fd() const { return bpf_program__fd(skel_->progs.vepa_uplink_tc); }
int Dataplane::port_xdp_fd() const { return bpf_program__fd(skel_->progs.vepa_port_xdp); }
int Dataplane::port_tc_fd() const { return bpf_program__fd(skel_->progs.vepa_port_tc); }
int Dataplane::xsk_xdp_fd() const { return bpf_program__fd(skel_->progs.vepa_xsk_xdp); }

void Dataplane::clear_xsk_slots(uint32_t first, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++)
        xsks_->erase(first + i);
}

std::vector<std::optional<uint32_t>> Dataplane::xsk_sockets(uint32_t first, uint32_t count) const
{
    if (count > VEPA_MAX_XSK_QUEUES)
        throw Error("xsk_sockets: at most " + std::to_string(VEPA_MAX_XSK_QUEUES) + " slots at once");
    vepa_xsk_query q{};
    q.first_slot = first;
    q.count = count;
    vepa_xsk_query out{};
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = &q, .data_out = &out, .data_size_in = sizeof(q),
                .data_size_out = sizeof(out), .repeat = 1);
    check_bpf(bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.vepa_xsk_query), &opts), "XSKMAP query");
    if (opts.retval != XDP_PASS)
        throw Error("XSKMAP query returned " + std::to_string(opts.retval));
    std::vector<std::optional<uint32_t>> res(count);
    for (uint32_t i = 0; i < count; i++)
        if (out.queue_plus1[i])
            res[i] = out.queue_plus1[i] - 1;
    return res;
}

} // namespace vepa
