#include "libvirt/wanted_ports.hpp"

#include <algorithm>

#include <pugixml.hpp>

#include "libvirt/hook_error.hpp"
#include "vepa/vlan_list.hpp"

namespace vepa::libvirt {
namespace {

// ---- XML namespaces (pugixml keeps prefixes as they are written) ----------------

std::string_view prefix_of(std::string_view qname)
{
    const auto colon = qname.find(':');
    return colon == std::string_view::npos ? std::string_view() : qname.substr(0, colon);
}

std::string_view local_name(std::string_view qname)
{
    const auto colon = qname.find(':');
    return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

// The namespace URI of an element: the nearest xmlns[:prefix] declaration up the tree.
std::string_view namespace_of(pugi::xml_node n)
{
    const std::string_view prefix = prefix_of(n.name());
    const std::string decl = prefix.empty() ? "xmlns" : "xmlns:" + std::string(prefix);
    for (pugi::xml_node a = n; a; a = a.parent())
        if (const auto attr = a.attribute(decl.c_str()))
            return attr.value();
    return {};
}

bool is_vepad(pugi::xml_node n) { return n.type() == pugi::node_element && namespace_of(n) == kNamespace; }

// ---- attribute values -------------------------------------------------------------

std::string where(pugi::xml_node n)
{
    std::string s = "<" + std::string(n.name());
    for (const auto& a : n.attributes())
        s += " " + std::string(a.name()) + "=\"" + a.value() + "\"";
    return s + "/>";
}

[[noreturn]] void bad(pugi::xml_node n, const std::string& why) { throw MetadataError(where(n) + ": " + why); }

bool yes_no(pugi::xml_node n, pugi::xml_attribute a)
{
    const std::string_view v = a.value();
    if (v == "yes")
        return true;
    if (v == "no")
        return false;
    bad(n, std::string(a.name()) + " must be yes or no, not '" + a.value() + "'");
}

bool valid_ifname(std::string_view n)
{
    return !n.empty() && n.size() < 16 && n != "." && n != ".." && n.find_first_of("/: \t\n") == std::string_view::npos;
}

std::string socket_value(pugi::xml_node n, pugi::xml_attribute a)
{
    const std::string v = a.value();
    if (v.empty() || v[0] != '/')
        bad(n, "socket must be an absolute path to vepad's control socket");
    return v;
}

// Attributes a vepad element may carry; any other (a typo such as src_check) is refused.
void check_attributes(pugi::xml_node n, std::initializer_list<std::string_view> known)
{
    for (const auto& a : n.attributes()) {
        const std::string_view name = a.name();
        if (name == "xmlns" || name.rfind("xmlns:", 0) == 0)
            continue;
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            std::string list;
            for (auto k : known)
                list += (list.empty() ? "" : ", ") + std::string(k);
            bad(n, "unknown attribute '" + std::string(name) + "' (known: " + list + ")");
        }
    }
}

// The settings of one <vepad:port>, with the <vepad:ports> defaults.
struct PortSpec {
    pugi::xml_node node;
    std::string dev;
    std::optional<Mac> mac;
    WantedPort settings;
};

PortSpec parse_port(pugi::xml_node n, const std::string& socket, bool required)
{
    check_attributes(n, {"dev", "mac", "mode", "vlan", "trunk", "src-check", "socket", "required"});
    PortSpec s{n, {}, {}, {}};
    WantedPort& w = s.settings;
    w.socket = socket;
    w.required = required;
    if (const auto a = n.attribute("dev")) {
        if (!valid_ifname(a.value()))
            bad(n, "dev must be an interface name (1 to 15 characters, no '/', ':' or spaces)");
        s.dev = a.value();
    }
    if (const auto a = n.attribute("mac")) {
        s.mac = Mac::parse(a.value());
        if (!s.mac || s.mac->is_group() || s.mac->is_zero())
            bad(n, "mac must be a unicast MAC address such as 52:54:00:12:34:56");
    }
    if (s.dev.empty() && !s.mac)
        bad(n, "name the interface: dev (its <target dev>) or mac (its <mac address>)");
    w.match = !s.dev.empty() ? "dev=\"" + s.dev + "\"" : "mac=\"" + s.mac->str() + "\"";
    if (const auto a = n.attribute("mode")) {
        const std::string v = a.value();
        if (v != "vepa" && v != "private" && v != "bridge")
            bad(n, "mode must be vepa, private or bridge, not '" + v + "'");
        w.mode = v;
    }
    if (const auto a = n.attribute("vlan")) {
        w.vlan = parse_vid(a.value());
        if (!w.vlan)
            bad(n, "vlan must be a VLAN id 1..4094, not '" + std::string(a.value()) + "'");
    }
    if (const auto a = n.attribute("trunk")) {
        const std::string_view v = a.value();
        if (v == "all")
            w.trunk_all = true;
        else if (!v.empty()) {
            auto set = parse_vid_list(v);
            if (!set)
                bad(n, "trunk must be VLAN ids 1..4094 such as 20,30-35, or all, not '" + std::string(v) + "'");
            w.trunk = *set;
        }
    }
    if (const auto a = n.attribute("src-check"))
        w.src_check = yes_no(n, a);
    if (const auto a = n.attribute("socket"))
        w.socket = socket_value(n, a);
    if (const auto a = n.attribute("required"))
        w.required = yes_no(n, a);
    return s;
}

// The vepad metadata: nullopt when the domain has none.
std::optional<std::vector<PortSpec>> parse_metadata(pugi::xml_node domain)
{
    pugi::xml_node ports;
    for (pugi::xml_node n : domain.child("metadata").children()) {
        if (!is_vepad(n))
            continue;
        if (local_name(n.name()) != "ports")
            bad(n, "unknown element in the vepad namespace: the metadata's element is <vepad:ports>");
        if (ports)
            bad(n, "the domain has two <vepad:ports> elements: put every <vepad:port> in one");
        ports = n;
    }
    if (!ports)
        return std::nullopt;
    check_attributes(ports, {"socket", "required"});
    const std::string socket = ports.attribute("socket") ? socket_value(ports, ports.attribute("socket")) : "";
    const bool required = ports.attribute("required") ? yes_no(ports, ports.attribute("required")) : true;
    std::vector<PortSpec> specs;
    for (pugi::xml_node n : ports.children()) {
        if (n.type() != pugi::node_element)
            continue;
        if (!is_vepad(n) || local_name(n.name()) != "port")
            bad(n, "unknown element in <vepad:ports>: its elements are <vepad:port>");
        specs.push_back(parse_port(n, socket, required));
    }
    return specs;
}

// ---- interfaces ---------------------------------------------------------------------

struct Interface {
    pugi::xml_node node;
    std::string type, dev;
    std::optional<Mac> mac;
};

std::string describe(const Interface& i)
{
    std::string s = "<interface type='" + i.type + "'>";
    if (i.mac)
        s += " with MAC " + i.mac->str();
    if (!i.dev.empty())
        s += " (target dev " + i.dev + ")";
    return s;
}

std::vector<Interface> interfaces(pugi::xml_node domain)
{
    std::vector<Interface> out;
    for (pugi::xml_node n : domain.child("devices").children("interface")) {
        Interface i{n, n.attribute("type").value(), n.child("target").attribute("dev").value(), {}};
        if (const auto m = n.child("mac").attribute("address"))
            i.mac = Mac::parse(m.value());
        out.push_back(std::move(i));
    }
    return out;
}

// The interface a <vepad:port> names; nullptr when only a release's XML lacks its name.
const Interface* find_interface(const PortSpec& s, const std::vector<Interface>& ifs, Match match)
{
    const Interface* found = nullptr;
    for (const auto& i : ifs) {
        const bool by_dev = !s.dev.empty() && i.dev == s.dev;
        const bool by_mac = s.mac && i.mac == s.mac;
        if (!(s.dev.empty() ? by_mac : by_dev))
            continue;
        if (found)
            bad(s.node, "matches two interfaces (" + describe(*found) + " and " + describe(i) + "): name it by dev");
        found = &i;
    }
    if (!found && match == Match::Lenient && !s.dev.empty())
        return nullptr;
    if (!found)
        bad(s.node, s.dev.empty() ? "no <interface> has <mac address='" + s.mac->str() + "'/>"
                                  : "no <interface> has <target dev='" + s.dev + "'/>");
    if (s.mac && found->mac != s.mac)
        bad(s.node, "dev and mac name different interfaces: " + describe(*found));
    if (found->type != "ethernet")
        bad(s.node, "matches " + describe(*found) +
                        ": a vepad port must be an <interface type='ethernet'> (a tap that no bridge or "
                        "macvtap holds)");
    if (!found->mac)
        bad(s.node, "matches " + describe(*found) + ", which has no <mac address>: vepad needs the guest's MAC");
    return found;
}

} // namespace

std::vector<WantedPort> DomainPorts::named() const
{
    std::vector<WantedPort> out;
    std::copy_if(ports.begin(), ports.end(), std::back_inserter(out), [](const auto& p) { return !p.dev.empty(); });
    return out;
}

std::vector<std::string> DomainPorts::sockets() const
{
    std::vector<std::string> out;
    for (const auto& p : ports)
        if (std::find(out.begin(), out.end(), p.socket) == out.end())
            out.push_back(p.socket);
    return out;
}

bool mentions_vepad(std::string_view xml) { return xml.find(kNamespace) != std::string_view::npos; }

DomainPorts parse_domain(std::string_view xml, Match match)
{
    pugi::xml_document doc;
    const auto r = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!r)
        throw MetadataError("the domain XML does not parse: " + std::string(r.description()) + " at offset " +
                            std::to_string(r.offset));
    const pugi::xml_node domain = doc.child("domain");
    if (!domain)
        throw MetadataError("the XML is not a libvirt domain (no <domain> element)");
    DomainPorts d;
    d.name = domain.child_value("name");
    d.uuid = domain.child_value("uuid");
    auto specs = parse_metadata(domain);
    if (!specs)
        return d;
    d.marked = true;
    const auto ifs = interfaces(domain);
    std::vector<const Interface*> taken;
    for (auto& s : *specs) {
        const Interface* i = find_interface(s, ifs, match);
        WantedPort w = std::move(s.settings);
        if (!i) {
            w.dev = s.dev; // a release's XML: the tap's name is gone from it
            w.mac = s.mac.value_or(Mac());
            d.ports.push_back(std::move(w));
            continue;
        }
        if (std::find(taken.begin(), taken.end(), i) != taken.end())
            bad(s.node, describe(*i) + " is named by two <vepad:port> elements");
        taken.push_back(i);
        w.dev = i->dev;
        w.mac = *i->mac;
        d.ports.push_back(std::move(w));
    }
    return d;
}

} // namespace vepa::libvirt
