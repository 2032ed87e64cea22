#!/usr/bin/env python3
# DHCP-driven updates end to end: Debian's Kea DHCPv4 and DHCPv6 servers and
# Kea D2 (kea-dhcp-ddns, configured with the very file `ddnsctl
# kea-d2-config` prints) update ddnsd for real dhclient clients: lease ->
# A/AAAA, PTR and DHCID (RFC 4701) in the forward and reverse zones; a
# second client asking for the same name is refused and its release leaves
# the holder's records (RFC 4703 §5.3, §5.5); the holder's renewals keep its
# names and its new lease after the server lost its leases takes the name
# back (DHCID matches); release and expiry remove the names.
#
# Runs as root. The test re-runs itself under `unshare -n`, so ddnsd, D2,
# kea-dhcp4 and dig live in a private network namespace (its own loopback);
# each DHCP client gets a namespace of its own (`ip netns add`, deleted at
# the end), joined to a bridge in the private one by a veth pair. No packet
# reaches the host's interfaces. Exit 77 (skip) when not root or when
# network namespaces are unavailable.
import base64
import hashlib
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddnstest as t  # noqa: E402

IN_NETNS = "DDNS_KEA_TEST_NETNS"
TOOLS = ("kea-dhcp4", "kea-dhcp6", "kea-dhcp-ddns", "dhclient", "ip", "unshare", "dig")
ZONE = "example.test"
REV = "2.0.192.in-addr.arpa"
REV6 = "0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"  # 2001:db8:1::/64
SERVER_IP = "192.0.2.1"
SERVER_IP6 = "2001:db8:1::1"
BRIDGE = "kea-br0"
HOST = "kea-host1"
FQDN = f"{HOST}.{ZONE}"
MACS = ("02:00:5e:10:00:01", "02:00:5e:10:00:02")
HOST6 = "kea-host6"
MAC6 = "02:00:5e:10:00:03"
LIFETIME = 10  # seconds; short so that renewal and expiry happen in the test


def run(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def zone_text(origin):
    return f"""$ORIGIN {origin}.
$TTL 300
@   IN SOA ns1.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 60
@   IN NS  ns1.{ZONE}.
""" + (f"ns1 IN A {SERVER_IP}\n" if origin == ZONE else "")


def dhcid(mac, fqdn, v6=False):
    # RFC 4701 §3.3, §3.5: digest type 1, SHA-256 over the identifier and
    # the FQDN in canonical wire form. DHCPv4 without a client identifier:
    # type 0, htype + chaddr. DHCPv6: type 2, the DUID, here the DUID-LL
    # (RFC 8415 §11.4) that `dhclient -D LL` makes from the MAC.
    hw = bytes.fromhex(mac.replace(":", ""))
    kind, ident = (b"\x00\x02", b"\x00\x03\x00\x01" + hw) if v6 else (b"\x00\x00", b"\x01" + hw)
    wire = b"".join(bytes([len(l)]) + l.encode() for l in fqdn.lower().split(".")) + b"\0"
    return base64.b64encode(kind + b"\x01" + hashlib.sha256(ident + wire).digest()).decode()


def ptr_name(ip):
    if ":" in ip:
        return ipaddress.ip_address(ip).reverse_pointer
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"


CLIENT_SCRIPT = """#!/bin/sh
# dhclient script for the test: configures only the client's own namespace
# (never the host's resolv.conf), and logs each event.
new=${new_ip_address:-${new_ip6_address:-}}
old=${old_ip_address:-${old_ip6_address:-}}
echo "$reason $new $old" >> "$0.log"
case "$reason" in
  PREINIT|PREINIT6) ip link set dev "$interface" up ;;
  BOUND6|RENEW6|REBIND6|REBOOT6)
    ip -6 addr replace "$new_ip6_address/$new_ip6_prefixlen" dev "$interface" nodad ;;
  EXPIRE6|RELEASE6|STOP6) ip -6 addr flush dev "$interface" scope global ;;
  BOUND|RENEW|REBIND|REBOOT)
    if [ -n "$old_ip_address" ] && [ "$old_ip_address" != "$new_ip_address" ]; then
      ip -4 addr del "$old_ip_address/$old_subnet_mask" dev "$interface" 2>/dev/null
    fi
    ip -4 addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
  EXPIRE|FAIL|RELEASE|STOP) ip -4 addr flush dev "$interface" ;;
esac
exit 0
"""


class Client:
    """One dhclient in its own network namespace, behind one veth pair."""

    def __init__(self, test, index, mac, hostname, v6=False):
        self.dir = test.dir
        self.v6 = v6
        self.ns = f"ddnskea{os.getpid()}c{index}"
        self.veth = f"kea-v{index}"
        self.mac = mac
        self.proc = None
        base = os.path.join(self.dir, f"client{index}")
        # DHCPv6 names come only in the Client FQDN option (RFC 4704),
        # which dhclient sends as a full name.
        name = (f'send fqdn.fqdn "{hostname}.{ZONE}.";\n' if v6
                else f'send host-name "{hostname}";\n')
        self.conf = t.write_file(base + ".conf", name + "timeout 30;\nretry 1;\n"
                                 "initial-interval 1;\n")
        self.leases = base + ".leases"
        self.pidfile = base + ".pid"
        self.script = t.write_file(base + ".sh", CLIENT_SCRIPT)
        os.chmod(self.script, 0o755)
        self.log = base + ".log"
        run("ip", "netns", "add", self.ns)
        test.namespaces.append(self.ns)
        # No duplicate address detection: an address is usable at once.
        self.exec("sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
                  "net.ipv6.conf.default.accept_dad=0")
        run("ip", "link", "add", self.veth, "type", "veth", "peer", "name", "eth0", "netns",
            self.ns)
        run("ip", "link", "set", self.veth, "master", BRIDGE, "up")
        self.exec("ip", "link", "set", "lo", "up")
        self.exec("ip", "link", "set", "eth0", "address", mac, "up")

    def exec(self, *cmd, check=True):
        return run("ip", "netns", "exec", self.ns, *cmd, check=check)

    def dhclient_args(self):
        family = ["-6", "-D", "LL"] if self.v6 else ["-4"]
        return ["ip", "netns", "exec", self.ns, "dhclient", *family, "-cf", self.conf,
                "-lf", self.leases, "-pf", self.pidfile, "-sf", self.script]

    def start(self):
        self.out = open(self.log, "ab")
        self.proc = subprocess.Popen(self.dhclient_args() + ["-d", "-v", "eth0"], stdout=self.out,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def events(self):
        try:
            with open(self.script + ".log") as f:
                return [line.split() for line in f]
        except FileNotFoundError:
            return []

    def address(self):
        for ev in reversed(self.events()):
            if ev[0].rstrip("6") in ("BOUND", "RENEW", "REBIND", "REBOOT") and len(ev) > 1:
                return ev[1]
        return None

    def wait_bound(self, timeout=20):
        if not t.wait_until(lambda: self.address() is not None, timeout, 0.1):
            raise AssertionError(f"{self.ns}: no lease in {timeout}s:\n{self.output()}")
        return self.address()

    def release(self):
        # dhclient -r stops the running one (its pid file) and sends
        # DHCPRELEASE from the leased address.
        subprocess.run(self.dhclient_args() + ["-r", "-v", "eth0"], stdout=self.out,
                       stderr=subprocess.STDOUT, timeout=20, check=True)
        self.reap()

    def kill(self):
        """Stops dhclient without a release: the lease is left to expire."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        self.reap()

    def reap(self):
        if getattr(self, "out", None):
            self.out.close()
            self.out = None
        if self.proc:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None

    def output(self):
        with open(self.log, errors="replace") as f:
            return f.read()[-3000:]


class KeaTest(unittest.TestCase):
    procs = []
    kea = {}
    namespaces = []

    @classmethod
    def setUpClass(cls):
        cls.dir = d = tempfile.mkdtemp(prefix="ddns-kea-")
        try:
            cls._setup(d)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _setup(cls, d):
        run("ip", "link", "set", "lo", "up")
        run("sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
        run("ip", "link", "add", BRIDGE, "type", "bridge")
        run("ip", "addr", "add", f"{SERVER_IP}/24", "dev", BRIDGE)
        run("ip", "addr", "add", f"{SERVER_IP6}/64", "dev", BRIDGE, "nodad")
        run("ip", "link", "set", BRIDGE, "up")

        cls.keyfile = os.path.join(d, "kea.key")
        t.write_file(cls.keyfile, run(t.binary("ddnsctl"), "keygen", "kea-key").stdout)
        zones = {z: t.write_file(os.path.join(d, z + ".zone"), zone_text(z))
                 for z in (ZONE, REV, REV6)}
        cls.ddnsd = t.Ddnsd(zones=zones, listen=["127.0.0.1:0"], workdir=d,
                            args=["--data-dir", os.path.join(d, "data"), "--key", cls.keyfile,
                                  "--allow-update", f"{ZONE}=kea-key",
                                  "--allow-update", f"{REV}=kea-key",
                                  "--allow-update", f"{REV6}=kea-key"]).start()
        cls.port = cls.ddnsd.port4

        # D2 runs on exactly what ddnsctl prints.
        d2_port = t.free_port()
        d2_conf = run(t.binary("ddnsctl"), "kea-d2-config", "--zone", ZONE, "--reverse-zone", REV,
                      "--reverse-zone", REV6,
                      "--key", cls.keyfile, "--server", f"127.0.0.1:{cls.port}",
                      "--listen", f"127.0.0.1:{d2_port}").stdout
        cls.d2_conf = json.loads(d2_conf)
        t.write_file(os.path.join(d, "kea-dhcp-ddns.conf"), d2_conf)

        dhcp4 = {"Dhcp4": {
            "interfaces-config": {"interfaces": [BRIDGE], "dhcp-socket-type": "raw"},
            "lease-database": {"type": "memfile", "persist": True,
                               "name": os.path.join(d, "leases4.csv"), "lfc-interval": 0},
            "valid-lifetime": LIFETIME, "renew-timer": 3, "rebind-timer": 7,
            # Reclaim expired leases (and remove their names) within a second.
            "expired-leases-processing": {"reclaim-timer-wait-time": 1,
                                          "hold-reclaimed-time": 0,
                                          "flush-reclaimed-timer-wait-time": 0},
            "dhcp-ddns": {"enable-updates": True, "server-ip": "127.0.0.1",
                          "server-port": d2_port},
            "ddns-send-updates": True,
            "ddns-qualifying-suffix": ZONE + ".",
            "subnet4": [{"id": 1, "subnet": "192.0.2.0/24",
                         "pools": [{"pool": "192.0.2.100 - 192.0.2.150"}]}],
            "loggers": [{"name": "kea-dhcp4", "severity": "INFO",
                         "output_options": [{"output": os.path.join(d, "kea-dhcp4.log")}]}],
        }}
        t.write_file(os.path.join(d, "kea-dhcp4.conf"), json.dumps(dhcp4, indent=2))
        dhcp6 = {"Dhcp6": {
            "interfaces-config": {"interfaces": [BRIDGE]},
            "lease-database": {"type": "memfile", "persist": True,
                               "name": os.path.join(d, "leases6.csv"), "lfc-interval": 0},
            # Not in Kea's data directory, which the test leaves alone.
            "server-id": {"type": "LL", "persist": False},
            "preferred-lifetime": 60, "valid-lifetime": 90, "renew-timer": 30,
            "rebind-timer": 50,
            "dhcp-ddns": {"enable-updates": True, "server-ip": "127.0.0.1",
                          "server-port": d2_port},
            "ddns-send-updates": True,
            # dhclient leaves the option's S flag clear (RFC 4704 §4.1: the
            # client updates its AAAA itself); the server does it instead.
            "ddns-override-client-update": True,
            # Clients on the link itself: the subnet is chosen by interface.
            "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64", "interface": BRIDGE,
                         "pools": [{"pool": "2001:db8:1::100 - 2001:db8:1::1ff"}]}],
            "loggers": [{"name": "kea-dhcp6", "severity": "INFO",
                         "output_options": [{"output": os.path.join(d, "kea-dhcp6.log")}]}],
        }}
        t.write_file(os.path.join(d, "kea-dhcp6.conf"), json.dumps(dhcp6, indent=2))

        cls.start_kea("kea-dhcp-ddns")
        cls.start_kea("kea-dhcp4")
        cls.start_kea("kea-dhcp6")
        cls.clients = [Client(cls, i + 1, mac, HOST) for i, mac in enumerate(MACS)]
        cls.clients.append(Client(cls, 3, MAC6, HOST6, v6=True))

    STARTED = {"kea-dhcp-ddns": ("kea-dhcp-ddns.out", "DHCP_DDNS_STARTED"),
               "kea-dhcp4": ("kea-dhcp4.log", "DHCP4_STARTED"),
               "kea-dhcp6": ("kea-dhcp6.log", "DHCP6_STARTED")}

    @classmethod
    def start_kea(cls, name):
        d = cls.dir
        log, mark = cls.STARTED[name]
        before = cls.read(log).count(mark)
        env = dict(os.environ, KEA_PIDFILE_DIR=d, KEA_LOCKFILE_DIR=d,
                   KEA_LFC_EXECUTABLE="/bin/true")
        with open(os.path.join(d, name + ".out"), "ab") as out:
            p = subprocess.Popen([name, "-c", os.path.join(d, name + ".conf")], env=env,
                                 stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 cwd=d)
        cls.procs.append(p)
        cls.kea[name] = p
        if not t.wait_until(lambda: cls.read(log).count(mark) > before or p.poll() is not None,
                            15, 0.05) or p.poll() is not None:
            raise RuntimeError(f"{name} did not start:\n{cls.read(name + '.out')[-3000:]}"
                               f"{cls.read(log)[-3000:]}")
        return p

    @classmethod
    def stop_proc(cls, p):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)

    @classmethod
    def tearDownClass(cls):
        for c in getattr(cls, "clients", []):
            c.kill()
        for p in cls.procs:
            cls.stop_proc(p)
        cls.procs = []
        if getattr(cls, "ddnsd", None) and cls.ddnsd.alive():
            cls.ddnsd.stop()
        for ns in cls.namespaces:
            run("ip", "netns", "del", ns, check=False)
        cls.namespaces = []
        if os.environ.get("DDNS_KEA_KEEP"):
            print("kept", cls.dir, file=sys.stderr)
        else:
            shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def read(cls, name):
        try:
            with open(os.path.join(cls.dir, name), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def logs(self):
        return (f"--- D2:\n{self.read('kea-dhcp-ddns.out')[-4000:]}\n--- ddnsd:\n"
                f"{self.ddnsd.log()[-3000:]}")

    def rdata(self, name, rtype):
        r = t.dig("127.0.0.1", self.port, name, rtype)
        self.assertIn(r.status, ("NOERROR", "NXDOMAIN"), r.output)
        return sorted(rr.rdata.replace(" ", "") for rr in r.answer if rr.rtype == rtype)

    def names(self, ip):
        """What the zones say about FQDN and the PTR name of ip."""
        return {"A": self.rdata(FQDN, "A"), "DHCID": self.rdata(FQDN, "DHCID"),
                "PTR": self.rdata(ptr_name(ip), "PTR"),
                "PTR-DHCID": self.rdata(ptr_name(ip), "DHCID")}

    def holds(self, ip, mac):
        return {"A": [ip], "DHCID": [dhcid(mac, FQDN)], "PTR": [FQDN + "."],
                "PTR-DHCID": [dhcid(mac, FQDN)]}

    def empty(self):
        return {"A": [], "DHCID": [], "PTR": [], "PTR-DHCID": []}

    def wait_names(self, ip, want, timeout=15):
        if not t.wait_until(lambda: self.names(ip) == want, timeout, 0.2):
            self.fail(f"{ip}: want {want}, have {self.names(ip)}\n{self.logs()}")

    def d2_count(self, msg):
        return self.read("kea-dhcp-ddns.out").count(msg)

    def test_kea_d2_config_snippet(self):
        d2 = self.d2_conf["DhcpDdns"]
        self.assertEqual(d2["tsig-keys"][0]["name"], "kea-key")
        self.assertEqual(d2["tsig-keys"][0]["algorithm"], "HMAC-SHA256")
        self.assertEqual([x["name"] for x in d2["forward-ddns"]["ddns-domains"]], [ZONE + "."])
        self.assertEqual([x["name"] for x in d2["reverse-ddns"]["ddns-domains"]],
                         [REV + ".", REV6 + "."])
        self.assertEqual(d2["reverse-ddns"]["ddns-domains"][0]["dns-servers"],
                         [{"ip-address": "127.0.0.1", "port": self.port}])
        bad = run(t.binary("ddnsctl"), "kea-d2-config", "--zone", REV, "--key", self.keyfile,
                  "--server", "127.0.0.1:53", check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("--reverse-zone", bad.stderr)
        self.assertEqual(bad.stdout, "")

    def test_lease_conflict_renew_release_expiry(self):
        one, two = self.clients[:2]
        # Lease -> A and DHCID at the name, PTR and DHCID at the address.
        one.start()
        ip1 = one.wait_bound()
        self.wait_names(ip1, self.holds(ip1, one.mac))

        # A second client asking for the same name gets an address but not
        # the name (RFC 4703 §5.3.1: in use, and §5.3.2: with another
        # DHCID), so D2 gives up and adds no PTR either.
        failed = self.d2_count("DHCP_DDNS_ADD_FAILED")
        two.start()
        ip2 = two.wait_bound()
        self.assertNotEqual(ip1, ip2)
        self.assertTrue(t.wait_until(lambda: self.d2_count("DHCP_DDNS_ADD_FAILED") > failed,
                                     15, 0.1), self.logs())
        self.assertIn("DHCP_DDNS_FORWARD_REPLACE_REJECTED", self.read("kea-dhcp-ddns.out"))
        self.assertEqual(self.names(ip1), self.holds(ip1, one.mac))
        self.assertEqual(self.rdata(ptr_name(ip2), "PTR"), [])

        # Its release removes nothing of the holder's (§5.5: DHCID differs).
        failed = self.d2_count("DHCP_DDNS_REMOVE_FAILED")
        two.release()
        self.assertTrue(t.wait_until(lambda: self.d2_count("DHCP_DDNS_REMOVE_FAILED") > failed,
                                     15, 0.1), self.logs())
        self.assertEqual(self.names(ip1), self.holds(ip1, one.mac))

        # The holder's renewals keep its names.
        renews = len([e for e in one.events() if e[0] == "RENEW"])
        self.assertTrue(t.wait_until(
            lambda: len([e for e in one.events() if e[0] == "RENEW"]) > renews, 10, 0.1),
            one.output())
        self.assertEqual(self.names(ip1), self.holds(ip1, one.mac))

        # The DHCP server loses its leases (restarted without its lease
        # file). The holder's next renewal is a new lease to it, so D2 adds
        # the names again, finds the name in use and takes RFC 4703 §5.3.2's
        # path: the DHCID matches, so the holder's A record is replaced.
        self.stop_proc(self.kea["kea-dhcp4"])
        os.unlink(os.path.join(self.dir, "leases4.csv"))
        added = self.d2_count("DHCP_DDNS_ADD_SUCCEEDED")
        in_use = self.ddnsd.log().count("YXDOMAIN: name in use")
        self.start_kea("kea-dhcp4")
        self.assertTrue(t.wait_until(lambda: self.d2_count("DHCP_DDNS_ADD_SUCCEEDED") > added,
                                     15, 0.1), self.logs())
        self.assertGreater(self.ddnsd.log().count("YXDOMAIN: name in use"), in_use)
        ip1 = one.address()
        self.wait_names(ip1, self.holds(ip1, one.mac))

        # Release -> every record of the lease is gone.
        one.release()
        self.wait_names(ip1, self.empty())

        # Now the name is free: the second client takes it.
        two.start()
        ip2 = two.wait_bound()
        self.wait_names(ip2, self.holds(ip2, two.mac))

        # Expiry (no release; the server reclaims the lease) -> removed.
        two.kill()
        self.wait_names(ip2, self.empty(), timeout=LIFETIME + 10)


    def test_dhcpv6_lease_and_release(self):
        six = self.clients[2]
        fqdn = f"{HOST6}.{ZONE}"
        want_id = dhcid(six.mac, fqdn, v6=True)

        def names(ip):
            return {"AAAA": self.rdata(fqdn, "AAAA"), "DHCID": self.rdata(fqdn, "DHCID"),
                    "PTR": self.rdata(ptr_name(ip), "PTR"),
                    "PTR-DHCID": self.rdata(ptr_name(ip), "DHCID")}

        def wait(ip, want):
            if not t.wait_until(lambda: names(ip) == want, 15, 0.2):
                self.fail(f"{ip}: want {want}, have {names(ip)}\n{self.logs()}\n{six.output()}")

        six.start()
        ip = six.wait_bound()
        self.assertTrue(ipaddress.ip_address(ip) in ipaddress.ip_network("2001:db8:1::/64"), ip)
        wait(ip, {"AAAA": [ip], "DHCID": [want_id], "PTR": [fqdn + "."], "PTR-DHCID": [want_id]})
        six.release()
        wait(ip, {"AAAA": [], "DHCID": [], "PTR": [], "PTR-DHCID": []})


def main():
    if os.geteuid() != 0:
        print("test_kea: needs root (network namespaces, raw DHCP sockets): skipped")
        return 77
    missing = [x for x in TOOLS if shutil.which(x) is None and not os.path.exists("/sbin/" + x)]
    if missing:
        print(f"test_kea: missing {' '.join(missing)} (scripts/install-deps.sh test)",
              file=sys.stderr)
        return 1
    if os.environ.get(IN_NETNS) != "1":
        probe = subprocess.run(["unshare", "-n", "ip", "link", "add", "kea-probe", "type",
                                "bridge"], capture_output=True)
        if probe.returncode != 0:
            print("test_kea: network namespaces unavailable: skipped")
            return 77
        os.execvpe("unshare", ["unshare", "-n", "--", sys.executable, os.path.abspath(__file__)]
                   + sys.argv[1:], dict(os.environ, **{IN_NETNS: "1"}))
    prog = unittest.main(exit=False, verbosity=2)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
