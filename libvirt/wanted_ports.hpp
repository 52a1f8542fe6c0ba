// libvirt/wanted_ports.hpp - the vepad ports a libvirt domain asks for: its XML's
// <metadata> in the vepad namespace, matched to its <interface type='ethernet'>
// elements.  Pure (no I/O): the hook's operations and the unit tests use it.
//
//   <metadata>
//     <vepad:ports xmlns:vepad="https://github.com/vepad/xmlns/libvirt/1"
//                  socket="/run/vepad/vepad.sock" required="yes">
//       <vepad:port dev="tapvm1" mode="vepa" vlan="10" trunk="20,30" src-check="yes"/>
//       <vepad:port mac="52:54:00:aa:00:02" required="no" socket="/run/vepad/b.sock"/>
//     </vepad:ports>
//   </metadata>
//
// See README.md, "libvirt and QEMU", for every attribute.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lib/mac.hpp"

namespace vepa::libvirt {

inline constexpr const char* kNamespace = "https://github.com/vepad/xmlns/libvirt/1";

struct WantedPort {
    std::string dev;                 // the interface's <target dev>: the port's name; "" until libvirt names the tap
    Mac mac;                         // the interface's <mac address>: the port's one MAC
    std::string match;               // how the metadata named the interface: dev="..." or mac="..." (for messages)
    std::optional<std::string> mode; // vepa|private|bridge; nullopt: vepad's default mode
    std::optional<uint16_t> vlan;    // untagged VLAN
    std::set<uint16_t> trunk;        // tagged VLANs
    bool trunk_all = false;          // trunk="all"
    bool src_check = true;
    std::string socket;   // "" : $VEPAD_SOCKET, else /run/vepad/vepad.sock
    bool required = true; // vepad unreachable: fail the start (yes) or start without the port (no)

    bool operator==(const WantedPort&) const = default;
};

struct DomainPorts {
    std::string name, uuid;
    bool marked = false;           // the XML has vepad metadata
    std::vector<WantedPort> ports; // one per <vepad:port>, in the metadata's order

    // The ports whose tap has a name in this XML (libvirt names vnetN taps at start).
    std::vector<WantedPort> named() const;
    // The sockets the ports use ("" for the default), each once.
    std::vector<std::string> sockets() const;
};

// Whether the XML can concern vepad at all (mentions the namespace): a cheap test
// before parsing the XML of a domain that is not vepad's.
bool mentions_vepad(std::string_view xml);

// How a <vepad:port dev="..."> that matches no interface is taken.  libvirt drops the
// names of the taps it made from the XML it gives the release hook (which needs only
// the sockets and the UUID): there, such a port keeps its name from the metadata and
// an unknown (zero) MAC (Lenient).  Everywhere else it is a mistake in the domain's
// definition (Strict).
enum class Match { Strict, Lenient };

// Parses a domain XML as libvirt gives it to hooks.  A domain without vepad metadata
// gives marked == false and no ports.  Throws MetadataError naming what is wrong: XML
// that does not parse, an unknown element or attribute in the vepad namespace, a bad
// value, a <vepad:port> that matches no interface or several, an interface matched
// twice or not of type 'ethernet'.
DomainPorts parse_domain(std::string_view xml, Match match = Match::Strict);

} // namespace vepa::libvirt
