// Typed, owning adapters over BPF map syscalls.  Thin on purpose: each call is
// one syscall; the business logic lives in the callers.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/error.hpp"
#include "lib/fd.hpp"

namespace vepa {

// Dup a borrowed fd (e.g. one a libbpf object owns) into an owned one.
UniqueFd dup_fd(int fd, const std::string& what);

// Key/value sizes and type of the map behind fd.
bpf_map_info map_info(int fd);

// Open a pinned map and check that its key and value sizes are the ones expected.
UniqueFd open_pinned_map(const std::string& path, uint32_t key_size, uint32_t value_size);

int possible_cpus();

template <typename K, typename V> class BpfMap {
public:
    explicit BpfMap(UniqueFd fd, std::string name = "map") : fd_(std::move(fd)), name_(std::move(name)) {}
    static BpfMap open_pinned(const std::string& path)
    {
        return BpfMap(open_pinned_map(path, sizeof(K), sizeof(V)), path);
    }
    BpfMap(BpfMap&&) noexcept = default;
    BpfMap& operator=(BpfMap&&) noexcept = default;
    BpfMap(const BpfMap&) = delete;
    BpfMap& operator=(const BpfMap&) = delete;

    int fd() const { return fd_.get(); }
    const std::string& name() const { return name_; }

    std::optional<V> lookup(const K& k) const
    {
        V v{};
        if (bpf_map_lookup_elem(fd(), &k, &v) == 0)
            return v;
        if (errno != ENOENT)
            throw SysError(errno, "lookup in " + name_);
        return std::nullopt;
    }

    void update(const K& k, const V& v, uint64_t flags = BPF_ANY)
    {
        if (bpf_map_update_elem(fd(), &k, &v, flags) != 0)
            throw SysError(errno, "update of " + name_);
    }

    // false when the key was not there.
    bool erase(const K& k)
    {
        if (bpf_map_delete_elem(fd(), &k) == 0)
            return true;
        if (errno != ENOENT)
            throw SysError(errno, "delete from " + name_);
        return false;
    }

    std::vector<K> keys() const
    {
        std::vector<K> out;
        K cur{}, next{};
        const K* prev = nullptr;
        while (bpf_map_get_next_key(fd(), prev, &next) == 0) {
            out.push_back(next);
            cur = next;
            prev = &cur;
        }
        if (errno != ENOENT)
            throw SysError(errno, "iteration of " + name_);
        return out;
    }

    // Entries deleted between listing and lookup are skipped.
    std::vector<std::pair<K, V>> entries() const
    {
        std::vector<std::pair<K, V>> out;
        for (const K& k : keys())
            if (auto v = lookup(k))
                out.emplace_back(k, *v);
        return out;
    }

private:
    UniqueFd fd_;
    std::string name_;
};

// A per-CPU map: one value per possible CPU.
template <typename K, typename V> class PerCpuMap {
    static_assert(sizeof(V) % 8 == 0, "per-CPU values are copied in 8-byte strides");

public:
    explicit PerCpuMap(UniqueFd fd, std::string name = "map")
        : fd_(std::move(fd)), name_(std::move(name)), ncpus_(possible_cpus())
    {}
    PerCpuMap(PerCpuMap&&) noexcept = default;
    PerCpuMap& operator=(PerCpuMap&&) noexcept = default;
    PerCpuMap(const PerCpuMap&) = delete;
    PerCpuMap& operator=(const PerCpuMap&) = delete;

    int fd() const { return fd_.get(); }
    int cpus() const { return ncpus_; }

    std::vector<V> lookup(const K& k) const
    {
        std::vector<V> v(ncpus_);
        if (bpf_map_lookup_elem(fd(), &k, v.data()) != 0)
            throw SysError(errno, "lookup in " + name_);
        return v;
    }

    void update(const K& k, const std::vector<V>& v)
    {
        if (static_cast<int>(v.size()) != ncpus_)
            throw Error("per-CPU update of " + name_ + " needs one value per CPU");
        if (bpf_map_update_elem(fd(), &k, v.data(), BPF_ANY) != 0)
            throw SysError(errno, "update of " + name_);
    }

    // Values of keys [first, first+count) in one BPF_MAP_LOOKUP_BATCH (arrays only):
    // out[i * cpus() + cpu].
    std::vector<V> lookup_range(uint32_t first, uint32_t count) const;

private:
    UniqueFd fd_;
    std::string name_;
    int ncpus_;
};

template <typename K, typename V> std::vector<V> PerCpuMap<K, V>::lookup_range(uint32_t first, uint32_t count) const
{
    static_assert(sizeof(K) == sizeof(uint32_t), "lookup_range is for arrays");
    std::vector<V> out(static_cast<size_t>(count) * ncpus_);
    std::vector<K> keys(count);
    uint32_t done = 0;
    // The batch token is the key *before* the first one returned (NULL: from the start);
    // the kernel hands back the last key it returned.
    uint32_t prev = first - 1, last = 0;
    bool from_start = first == 0;
    while (done < count) {
        uint32_t n = count - done;
        LIBBPF_OPTS(bpf_map_batch_opts, opts);
        const int r = bpf_map_lookup_batch(fd(), from_start ? nullptr : &prev, &last, keys.data() + done,
                                           out.data() + static_cast<size_t>(done) * ncpus_, &n, &opts);
        if (r != 0 && errno != ENOENT)
            throw SysError(errno, "batch lookup in " + name_);
        done += n;
        if (r != 0 || n == 0)
            break;
        prev = last;
        from_start = false;
    }
    out.resize(static_cast<size_t>(done) * ncpus_);
    return out;
}

} // namespace vepa
