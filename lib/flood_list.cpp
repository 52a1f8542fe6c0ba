#include "lib/flood_list.hpp"

#include <bpf/bpf.h>

#include <memory>

#include "lib/error.hpp"

namespace vepa {

namespace {
UniqueFd make_inner(const char* name)
{
    const int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(uint32_t), sizeof(vepa_flood_list), 1, nullptr);
    if (fd < 0)
        throw SysError(errno, "create flood list map");
    return UniqueFd(fd);
}
} // namespace

FloodList::FloodList(UniqueFd outer) : outer_(std::move(outer))
{
    inner_[0] = make_inner("flood_a");
    inner_[1] = make_inner("flood_b");
}

void FloodList::publish(const std::vector<vepa_port_ref>& ports)
{
    if (ports.size() > VEPA_MAX_PORTS)
        throw Error("flood list of " + std::to_string(ports.size()) + " ports exceeds " +
                    std::to_string(VEPA_MAX_PORTS));
    auto list = std::make_unique<vepa_flood_list>();
    list->count = static_cast<uint32_t>(ports.size());
    for (size_t i = 0; i < ports.size(); i++)
        list->ports[i] = ports[i];
    const uint32_t zero = 0;
    UniqueFd& spare = inner_[next_];
    if (bpf_map_update_elem(spare.get(), &zero, list.get(), BPF_ANY) != 0)
        throw SysError(errno, "write flood list");
    const int fd = spare.get();
    if (bpf_map_update_elem(outer_.get(), &zero, &fd, BPF_ANY) != 0)
        throw SysError(errno, "publish flood list");
    next_ ^= 1;
}

std::vector<vepa_port_ref> FloodList::current() const
{
    const uint32_t zero = 0;
    uint32_t id = 0;
    if (bpf_map_lookup_elem(outer_.get(), &zero, &id) != 0)
        return {};
    UniqueFd inner(bpf_map_get_fd_by_id(id));
    if (!inner)
        throw SysError(errno, "open flood list map " + std::to_string(id));
    auto list = std::make_unique<vepa_flood_list>();
    if (bpf_map_lookup_elem(inner.get(), &zero, list.get()) != 0)
        throw SysError(errno, "read flood list");
    const uint32_t n = list->count < VEPA_MAX_PORTS ? list->count : VEPA_MAX_PORTS;
    return {list->ports, list->ports + n};
}

} // namespace vepa
