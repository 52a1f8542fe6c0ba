#include "libvirt/help.hpp"

namespace vepa::libvirt {

std::string help_text()
{
    return R"(NAME
    vepad-libvirt-hook - vepad ports for libvirt's QEMU domains

SYNOPSIS
    /etc/libvirt/hooks/qemu.d/vepad DOMAIN OPERATION SUB-OPERATION EXTRA < domain.xml
    vepad-libvirt-hook --check < domain.xml
    vepad-libvirt-hook --help | --version

DESCRIPTION
    A libvirt hook: libvirtd runs it at each step of a QEMU domain's life with the
    domain's XML on standard input.  For a domain whose <metadata> asks for vepad
    ports, it makes each named <interface type='ethernet'> (a tap) a port of vepad,
    the IEEE 802.1Qbg VEPA daemon, with the interface's MAC, and deletes the ports
    when the domain is gone.  Every frame the guest sends then leaves through
    vepad's uplink to the adjacent switch.  A domain without vepad metadata is left
    alone: the hook exits 0 without contacting vepad.

INSTALLATION
    Installed as SYSCONFDIR/libvirt/hooks/qemu.d/vepad (meson -Dsysconfdir=/etc:
    /etc/libvirt/hooks/qemu.d/vepad).  libvirt 6.5 and later runs every executable
    in that directory; libvirtd looks for hooks when it starts: restart it after
    installing the first one (libvirt's hooks documentation).  The hook runs as
    libvirtd's user (root), which may use vepad's control socket.

DOMAIN XML
    <domain type='kvm'>
      <metadata>
        <vepad:ports xmlns:vepad="https://github.com/vepad/xmlns/libvirt/1">
          <vepad:port dev="tapvm1" mode="vepa" vlan="10" trunk="20,30"/>
          <vepad:port mac="52:54:00:aa:00:02"/>
        </vepad:ports>
      </metadata>
      <devices>
        <interface type='ethernet'>
          <mac address='52:54:00:aa:00:01'/>
          <target dev='tapvm1'/>
          <model type='virtio'/>
        </interface>
        <interface type='ethernet'>
          <mac address='52:54:00:aa:00:02'/>
          <model type='virtio'/>
        </interface>
      </devices>
    </domain>

    The namespace URI is what counts, not the prefix (virsh metadata --uri
    https://github.com/vepad/xmlns/libvirt/1 --key vepad --set ... writes it too).
    One <vepad:ports> element; one <vepad:port> per interface that is to be a port.
    Interfaces without one are not vepad's.

    <vepad:ports> attributes (defaults for its ports):
      socket="PATH"      vepad's control socket (default: $VEPAD_SOCKET as libvirtd's
                         environment has it, else /run/vepad/vepad.sock)
      required="yes|no"  see FAILURES (default yes)

    <vepad:port> attributes:
      dev="NAME"         the interface whose <target dev='NAME'/> this is; the port's
                         name is NAME
      mac="MAC"          the interface whose <mac address='MAC'/> this is: for a tap
                         libvirt names itself (vnetN); its port is added at start,
                         named as libvirt named the tap.  With dev too, both must name
                         the same interface.
      mode="vepa|private|bridge"   the port's mode (default: vepad's default mode)
      vlan="VID"         the port's untagged VLAN, 1..4094 (default: none)
      trunk="LIST|all"   the VLANs whose frames pass tagged: 20,30-35 or all
                         (default: none)
      src-check="yes|no" drop frames from a source MAC not the port's (default yes)
      socket, required   as on <vepad:ports>, for this port

    The matched interface must be <interface type='ethernet'> with a <mac address>
    (libvirt adds one to every interface).  Its tap may be one libvirt makes (with or
    without a <target dev>) or one made beforehand (<target dev='NAME' managed='no'/>).
    The port's MAC is the interface's: the guest must use it.

OPERATIONS
    prepare   adds the ports of the interfaces that have a <target dev> (before the
              taps exist: vepad shows them "absent", then attaches each tap when
              libvirt makes it)
    start     adds the ports of the taps libvirt named itself (vnetN), matched by MAC;
              the taps exist, QEMU is not running yet
    release   deletes the domain's ports: on each socket the metadata names, those
              whose owner has the domain's UUID (libvirt's last step, after a stop and
              after a start that failed)
    Each port gets the owner {"tool": "libvirt", "name": DOMAIN, "id": UUID,
    "ifname": ""} (vepactl list: libvirt:DOMAIN:UUID).  A port of that name that is
    the domain's (a start again, a port left by a crash), or has no owner and the
    interface's MAC (made by hand for this guest), is taken as it is, or changed with
    set-port when its settings differ.  A port of that name owned by another, or
    without owner and with other MACs, is another guest's: the start fails.  Every
    other operation (started, stopped, migrate, restore, reconnect, attach, ...) does
    nothing; a NIC hot-plugged into a running domain is not seen by the hook.

FAILURES
    Each request to vepad waits at most 2 s, the connection included.  What goes
    wrong is written to standard error, one line per problem, which libvirtd puts in
    its error when the hook fails (virsh start prints it) and in its debug log
    otherwise.
    - Bad XML or metadata (an unknown attribute, a bad value, a port that matches no
      interface or one not of type 'ethernet'): the start fails.
    - vepad refuses a port (a MAC another port has, a bad VLAN list, too many ports):
      the start fails with vepad's error code and message.
    - vepad cannot be reached (not running, not accepting connections, no reply
      within 2 s): with required="yes" (the default) the start fails, since the guest
      would run with no VEPA port; with required="no" the domain starts without that
      port and the hook writes a warning.
    - At release, an unreachable vepad or a refused deletion leaves ports behind,
      owned by the domain (its next start takes them); the hook exits 1, which
      libvirtd logs as an error; the domain stops anyway.

OPTIONS
    --check    read a domain XML on standard input and print the ports it asks for
               (one line of add-port arguments each), or what is wrong with it
    --help     this text
    --version  the version

EXIT STATUS
    0   done, or nothing to do (a domain without vepad metadata, an operation the hook
        does not act on, required="no" ports with vepad unreachable)
    1   failed: libvirtd stops the domain's start (at prepare and start) or logs the
        error (at release)
    2   bad command line

ENVIRONMENT
    VEPAD_SOCKET   the control socket when the metadata names none

SEE ALSO
    vepactl(8), vepad(8), https://libvirt.org/hooks.html, README.md "libvirt and QEMU"
)";
}

} // namespace vepa::libvirt
