#include "lib/flood_list.hpp"

#include <bpf/bpf.h>

#include <memory>
#include <utility>

#include "lib/error.hpp"

namespace vepa {

namespace {
UniqueFd make_inner(const char* name, uint32_t& id)
{
    const int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(uint32_t), sizeof(vepa_flood_list), 1, nullptr);
    if (fd < 0)
        throw SysError(errno, "create flood list map");
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0)
        throw SysError(errno, "flood list map id");
    id = info.id;
    return UniqueFd(fd);
}

// The id of the inner map the programs see (0: none).
uint32_t seen(int outer)
{
    const uint32_t zero = 0;
    uint32_t id = 0;
    return bpf_map_lookup_elem(outer, &zero, &id) == 0 ? id : 0;
}
} // namespace

FloodList::FloodList(UniqueFd outer) : outer_(std::move(outer))
{
    inner_[0] = make_inner("flood_a", inner_id_[0]);
    inner_[1] = make_inner("flood_b", inner_id_[1]);
}

FloodList::~FloodList()
{
    if (swap_.joinable())
        swap_.join();
}

void FloodList::settle()
{
    if (swap_.joinable())
        swap_.join();
    if (const int err = std::exchange(swap_err_, 0))
        throw SysError(err, "publish flood list");
}

void FloodList::publish(const std::vector<vepa_port_ref>& ports)
{
    if (ports.size() > VEPA_MAX_PORTS)
        throw Error("flood list of " + std::to_string(ports.size()) + " ports exceeds " +
                    std::to_string(VEPA_MAX_PORTS));
    settle(); // the spare is the list before the last one: free once that publish returned
    auto list = std::make_unique<vepa_flood_list>();
    list->count = static_cast<uint32_t>(ports.size());
    for (size_t i = 0; i < ports.size(); i++)
        list->ports[i] = ports[i];
    const uint32_t zero = 0;
    UniqueFd& spare = inner_[next_];
    if (bpf_map_update_elem(spare.get(), &zero, list.get(), BPF_ANY) != 0)
        throw SysError(errno, "write flood list");
    const uint32_t id = inner_id_[next_];
    next_ ^= 1;
    swap_done_ = false;
    swap_ = std::thread([this, fd = spare.get()] {
        const uint32_t key = 0;
        if (bpf_map_update_elem(outer_.get(), &key, &fd, BPF_ANY) != 0)
            swap_err_ = errno;
        swap_done_ = true;
    });
    // The swap comes first in the update: microseconds, then the new list is what frames see.
    while (seen(outer_.get()) != id && !swap_done_)
        std::this_thread::yield();
    if (seen(outer_.get()) != id)
        settle(); // the update failed: throws
}

std::vector<vepa_port_ref> FloodList::current() const
{
    const uint32_t zero = 0;
    const uint32_t id = seen(outer_.get());
    if (!id)
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
