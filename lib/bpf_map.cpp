#include "lib/bpf_map.hpp"

namespace vepa {

UniqueFd dup_fd(int fd, const std::string& what)
{
    const int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (d < 0)
        throw SysError(errno, "dup of " + what);
    return UniqueFd(d);
}

bpf_map_info map_info(int fd)
{
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    check_bpf(bpf_obj_get_info_by_fd(fd, &info, &len), "map info");
    return info;
}

UniqueFd open_pinned_map(const std::string& path, uint32_t key_size, uint32_t value_size)
{
    UniqueFd fd(bpf_obj_get(path.c_str()));
    if (!fd)
        throw SysError(errno, "open of pinned map " + path);
    const bpf_map_info info = map_info(fd.get());
    if (info.key_size != key_size || info.value_size != value_size)
        throw Error("pinned map " + path + " has key/value sizes " + std::to_string(info.key_size) + "/" +
                    std::to_string(info.value_size) + ", expected " + std::to_string(key_size) + "/" +
                    std::to_string(value_size));
    return fd;
}

int possible_cpus()
{
    static const int n = libbpf_num_possible_cpus();
    if (n <= 0)
        throw SysError(n, "number of possible CPUs");
    return n;
}

} // namespace vepa
