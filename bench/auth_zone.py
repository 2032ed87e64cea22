#!/usr/bin/env python3
# Deterministic benchmark zone and dnsperf query mix for bench/auth-qps.sh.
#
#   auth_zone.py --hosts 100000 --out-dir DIR [--origin bench.test.] [--queries 200000]
#
# Writes DIR/zone (master file) and DIR/queries (dnsperf "name type" lines):
#   80% hits (host<i> A or AAAA), 10% NXDOMAIN (nx<i>), 5% CNAME (www<i> A,
#   a CNAME to host<i> in the zone), 5% referrals (host<j>.sub<k> A, below a
#   delegation with in-zone glue). Same arguments -> same bytes.
import argparse
import os
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=100000)
    ap.add_argument("--origin", default="bench.test.")
    ap.add_argument("--queries", type=int, default=200000)
    ap.add_argument("--out-dir", required=True)
    a = ap.parse_args()
    origin = a.origin if a.origin.endswith(".") else a.origin + "."
    n = a.hosts
    cnames = max(1, n // 20)   # www<i> CNAME host<i>
    subs = max(1, n // 100)    # sub<k> delegations with glue
    os.makedirs(a.out_dir, exist_ok=True)
    zpath = os.path.join(a.out_dir, "zone")
    with open(zpath, "w") as z:
        w = z.write
        w(f"$ORIGIN {origin}\n$TTL 3600\n")
        w("@ SOA ns1 hostmaster 2026112101 7200 3600 1209600 300\n")
        w("@ NS ns1\n@ NS ns2\nns1 A 192.0.2.1\nns2 A 192.0.2.2\n")
        w("@ MX 10 mail\nmail A 192.0.2.25\n*.wild A 192.0.2.254\n")
        for i in range(n):
            # 198.18.0.0/15 is the benchmarking range (RFC 2544)
            w(f"host{i} A 198.18.{(i >> 8) & 255}.{i & 255}\n"
              f"host{i} AAAA 2001:db8::{i >> 16:x}:{i & 0xffff:x}\n")
        for i in range(cnames):
            w(f"www{i} CNAME host{i}\n")
        for k in range(subs):
            w(f"sub{k} NS ns1.sub{k}\nsub{k} NS ns2.sub{k}\n"
              f"ns1.sub{k} A 192.0.2.{k % 250 + 1}\nns2.sub{k} AAAA 2001:db8:1::{k:x}\n")
    rnd = random.Random(42)
    qpath = os.path.join(a.out_dir, "queries")
    with open(qpath, "w") as q:
        for _ in range(a.queries):
            r = rnd.random()
            if r < 0.80:
                q.write(f"host{rnd.randrange(n)}.{origin} {'A' if rnd.random() < 0.5 else 'AAAA'}\n")
            elif r < 0.90:
                q.write(f"nx{rnd.randrange(10 * n)}.{origin} A\n")
            elif r < 0.95:
                q.write(f"www{rnd.randrange(cnames)}.{origin} A\n")
            else:
                q.write(f"host{rnd.randrange(100)}.sub{rnd.randrange(subs)}.{origin} A\n")
    print(f"zone={zpath} queries={qpath} hosts={n} cnames={cnames} delegations={subs}")


if __name__ == "__main__":
    main()
