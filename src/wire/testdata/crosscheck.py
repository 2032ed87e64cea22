#!/usr/bin/env python3
"""Cross-checks rdata.golden against real DNS software.

1. Our printed text of every golden case goes into a zone that
   named-checkzone (BIND) and kzonecheck (Knot) must accept.
2. knotd serves that zone on 127.0.0.1 (random port); for each case
   `dig +unknownformat` shows the wire rdata Knot built from our text,
   which must equal the golden hex.
Run: python3 src/wire/testdata/crosscheck.py   (needs knotd, dig,
named-checkzone, kzonecheck). Prints mismatches; exit 1 on any.
"""
import os, random, re, shutil, signal, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = {"OPT", "TSIG", "TKEY"}  # meta types, not zone data
# Types BIND reads but Knot 3.2 does not: checked by named-checkzone only.
BIND_ONLY = {"MB", "MG", "MR", "X25", "PX", "HIP", "NINFO", "AVC", "TA", "DLV"}


def load():
    cases, last = [], None
    for line in open(os.path.join(HERE, "rdata.golden")):
        line = line.rstrip("\n")
        if not line or line.startswith("#") or line.startswith("!"):
            last = None if line.startswith("!") else last
            continue
        if line.startswith("=>"):
            if last is not None:
                last["printed"] = line[2:].strip()
            continue
        a, b = line.find(" | "), line.rfind(" | ")
        c = {"type": line[:a].strip(), "text": line[a + 3:b].strip(), "hex": line[b + 3:].strip()}
        c["printed"] = c["text"]
        cases.append(c)
        last = c
    return [c for c in cases if c["type"] not in SKIP]


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main():
    cases = load()
    tmp = tempfile.mkdtemp(prefix="ddns-crosscheck-")
    lines = ["$ORIGIN example.test.", "$TTL 300",
             "@ SOA ns1.example.test. hostmaster.example.test. 1 3600 900 604800 300",
             "@ NS ns1.example.test.", "ns1 A 192.0.2.53"]
    owners = []
    knot_lines = list(lines)
    for i, c in enumerate(cases):
        owner = "r%d.example.test." % i
        if c["type"] == "SOA":
            owner = None  # SOA only at an apex; checked on its own below
        if owner:
            lines.append("%s %s %s" % (owner, c["type"], c["printed"]))
            if c["type"] in BIND_ONLY:
                owner = None
            else:
                knot_lines.append(lines[-1])
        owners.append(owner)
    zone = os.path.join(tmp, "example.test.zone")
    bind_zone = os.path.join(tmp, "bind.zone")
    open(zone, "w").write("\n".join(knot_lines) + "\n")
    open(bind_zone, "w").write("\n".join(lines) + "\n")
    bad = 0
    r = subprocess.run(["named-checkzone", "-i", "local", "-k", "ignore", "-n", "ignore",
                        "example.test", bind_zone], capture_output=True, text=True)
    print("named-checkzone:", r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr)
    if r.returncode != 0:
        print(r.stdout, r.stderr)
        bad += 1
    r = subprocess.run(["kzonecheck", "-o", "example.test.", zone], capture_output=True, text=True)
    print("kzonecheck rc=%d %s" % (r.returncode, (r.stdout + r.stderr).strip()[:2000]))
    if r.returncode != 0:
        bad += 1
    for c in cases:
        if c["type"] != "SOA":
            continue
        z = os.path.join(tmp, "soa.zone")
        open(z, "w").write("soa.test. 300 IN SOA %s\nsoa.test. 300 IN NS ns.soa.test.\nns.soa.test. 300 IN A 192.0.2.1\n" % c["printed"])
        for cmd in (["named-checkzone", "-i", "local", "soa.test", z], ["kzonecheck", "-o", "soa.test.", z]):
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                print("REJECTED by %s: SOA %s\n%s%s" % (cmd[0], c["printed"], r.stdout, r.stderr))
                bad += 1

    # Serve the zone with knotd and compare wire rdata.
    port = free_port()
    conf = os.path.join(tmp, "knot.conf")
    open(conf, "w").write("""server:
    listen: 127.0.0.1@%d
    rundir: %s
database:
    storage: %s
template:
  - id: default
    storage: %s
    semantic-checks: off
zone:
  - domain: example.test.
    file: example.test.zone
log:
  - target: stderr
    any: error
""" % (port, tmp, tmp, tmp))
    knot = subprocess.Popen(["knotd", "-c", conf], stderr=subprocess.PIPE)
    try:
        ok = False
        for _ in range(50):
            time.sleep(0.1)
            r = subprocess.run(["dig", "+short", "+time=1", "+tries=1", "@127.0.0.1", "-p", str(port),
                                "ns1.example.test", "A"], capture_output=True, text=True)
            if "192.0.2.53" in r.stdout:
                ok = True
                break
        if not ok:
            print("knotd did not come up")
            return 1
        checked = 0
        for owner, c in zip(owners, cases):
            if not owner:
                continue
            if c["type"] == "NSEC3":
                continue  # knotd keeps NSEC3 apart and never answers it by name
            r = subprocess.run(["dig", "+norec", "+nocmd", "+nostats", "+unknownformat", "+time=2",
                                "+tries=1", "@127.0.0.1", "-p", str(port), owner, c["type"]],
                               capture_output=True, text=True)
            out = ""
            for l in r.stdout.splitlines():  # answer, or authority for NS
                f = l.split(None, 4)
                if len(f) == 5 and f[0] == owner and (f[3] == c["type"] or f[3].startswith("TYPE")):
                    out = f[4].strip()
                    break
            m = re.match(r"\\# (\d+)\s*(.*)", out, re.S)
            if not m:
                print("NO ANSWER for %s %s: %r" % (c["type"], c["printed"], out))
                bad += 1
                continue
            got = re.sub(r"\s+", "", m.group(2)).lower() or "-"
            # Knot stores names lowercased; a case-only difference in a
            # type whose rdata holds names is Knot's doing, not ours.
            folded = (c["type"] in ("NS", "CNAME", "DNAME", "PTR", "MX", "SRV", "SOA", "RP",
                                    "AFSDB", "RT", "KX", "MINFO") and
                      got != "-" and bytes.fromhex(got).lower() == bytes.fromhex(c["hex"]).lower())
            if got != c["hex"] and not folded:
                print("WIRE MISMATCH %s %s\n  ours: %s\n  knot: %s" % (c["type"], c["printed"], c["hex"], got))
                bad += 1
            checked += 1
        print("wire-checked %d cases against knotd" % checked)
    finally:
        knot.send_signal(signal.SIGTERM)
        knot.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    print("FAIL" if bad else "OK")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
