// vepad-libvirt-hook - libvirt's QEMU hook for vepad: vepad ports for the domains that
// ask for them in their <metadata>.  See --help (libvirt/help.cpp) and README.md,
// "libvirt and QEMU".
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "libvirt/help.hpp"
#include "libvirt/hook_error.hpp"
#include "libvirt/port_requests.hpp"
#include "libvirt/vepad_sync.hpp"
#include "libvirt/wanted_ports.hpp"

using namespace vepa::libvirt;

namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// Read all of it, even when the hook has nothing to do: libvirtd writes the whole XML.
std::string read_stdin() { return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()}; }

int usage(const std::string& why)
{
    std::cerr << "vepad-libvirt-hook: " << why << "\n"
              << "usage: vepad-libvirt-hook DOMAIN OPERATION SUB-OPERATION EXTRA < domain.xml (as libvirtd runs it)\n"
              << "       vepad-libvirt-hook --check < domain.xml | --help | --version\n";
    return kExitUsage;
}

int check(const std::string& xml)
{
    const DomainPorts d = parse_domain(xml);
    if (!d.marked) {
        std::cout << "no vepad metadata: the hook leaves this domain alone\n";
        return 0;
    }
    for (const auto& w : d.ports) {
        nlohmann::json a = port_args(w, domain_owner(d));
        if (w.dev.empty())
            a["name"] = nullptr; // libvirt names the tap at start
        std::cout << w.match << ": " << a.dump() << " socket=" << (w.socket.empty() ? "(default)" : w.socket)
                  << " required=" << (w.required ? "yes" : "no") << "\n";
    }
    return 0;
}

int run(std::string_view op, const std::string& xml)
{
    if (op != "prepare" && op != "start" && op != "release")
        return 0;
    if (!mentions_vepad(xml))
        return 0;
    const DomainPorts d = parse_domain(xml, op == "release" ? Match::Lenient : Match::Strict);
    if (!d.marked)
        return 0;
    if (d.uuid.empty())
        throw MetadataError("the domain XML has no <uuid> (libvirt gives every domain one): the ports' owner needs it");
    if (op == "prepare") {
        attach_ports(d, d.named());
    } else if (op == "start") {
        for (const auto& w : d.ports)
            if (w.dev.empty())
                throw MetadataError("libvirt gave the tap of " + describe(w) + " no name at start");
        attach_ports(d, d.ports);
    } else {
        detach_ports(d);
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    const std::string_view first = argc > 1 ? argv[1] : "";
    if (first == "--help" || first == "-h") {
        std::cout << help_text();
        return 0;
    }
    if (first == "--version") {
        std::cout << "vepad-libvirt-hook " << VEPAD_VERSION << "\n";
        return 0;
    }
    if (first == "--check" && argc == 2) {
        try {
            return check(read_stdin());
        } catch (const MetadataError& e) {
            std::cerr << "vepad-libvirt-hook: " << e.what() << "\n";
            return kExitFailed;
        }
    }
    if (argc < 3 || first.empty() || first[0] == '-')
        return usage(argc < 3 ? "expected at least DOMAIN and OPERATION" : "unknown option " + std::string(first));
    const std::string domain = argv[1], op = argv[2];
    const std::string xml = read_stdin();
    try {
        return run(op, xml);
    } catch (const MetadataError& e) {
        std::cerr << "vepad-libvirt-hook: domain " << domain << ": bad vepad metadata: " << e.what() << "\n";
    } catch (const VepadError& e) {
        std::cerr << "vepad-libvirt-hook: domain " << domain << ": " << e.what() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "vepad-libvirt-hook: domain " << domain << ": " << op << " failed: " << e.what() << "\n";
    }
    return kExitFailed;
}
