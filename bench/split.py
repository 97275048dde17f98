#!/usr/bin/env python3
"""split.py -- random_mixed's time split into the allocator's share and the program's.

    bench/split.py [--runs N] [--mode quick|full] [--hakmem-lib PATH] [--extra NAME=PATH ...]

Runs the four random_mixed configurations of the suite with bench_random_mixed_split
(bench/src/bench_random_mixed_split.c): every run times bench_random_mixed's loop with
the allocator, then replays the same steps at the addresses it returned, without
malloc or free. Per
allocator, the best (shortest) of N interleaved runs:
  total      the timed loop (what the suite's throughput is made of)
  replay     the same writes at the same addresses: what the allocator's layout
             costs the program
  allocator  best total - best replay: the malloc and free calls, their cache misses
             included
and for hakmem the allocator time it would need to be 1.1x the best peer (the tier
issue's goal) with its own layout: best peer total / 1.1 - hakmem replay. Times are
milliseconds per run. On a shared machine other tenants slow some runs down, the
replay as much as the loop before it (one process's replay has measured 107 to 187
ms), so the best of each is the estimate; the medians are printed for the spread.
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

CONFIGS = [(8192, 16, 1040), (8192, 16, 32768), (400, 16, 1040), (400, 16, 32768)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--mode", choices=sorted(harness.PARAMS), default="quick")
    ap.add_argument("--hakmem-lib", default=os.path.join(harness.REPO, "build", "lib", "libhakmem.so"))
    ap.add_argument("--extra", action="append", default=[], metavar="NAME=PATH",
                    help="another library to measure (e.g. hakmem-unhardened=build/lib/...)")
    args = ap.parse_args()
    libs = {name: path for name, (path, _) in harness.PEERS.items() if name != "glibc"}
    libs["hakmem"] = os.path.abspath(args.hakmem_lib)
    for extra in args.extra:
        name, _, path = extra.partition("=")
        libs[name] = os.path.abspath(path)
    for name, path in libs.items():
        if not os.path.exists(path):
            sys.exit(f"split.py: no library for {name}: {path}")
    binary = os.path.join(harness.REPO, "build", "bench", "bench_random_mixed_split")
    p = harness.PARAMS[args.mode]

    print(f"{args.runs} interleaved runs of bench_random_mixed_split {p['rm_iter']} <ws> 42 <min> <max>; "
          "best of each, ms\n")
    print("| configuration | allocator | total | replay | allocator | needed for 1.1x | median total / replay |")
    print("|---|---|---|---|---|---|---|")
    for ws, lo, hi in CONFIGS:
        cmd = [binary, str(p["rm_iter"]), str(ws), "42", str(lo), str(hi)]
        got = {name: [] for name in libs}
        for _ in range(args.runs):
            for name, path in libs.items():
                res = harness.run_process(cmd, harness.env_for(path), p["timeout"])
                values, reported = harness.parse_output(res["stdout"])
                if res["rc"] != 0 or "replay_time" not in values or not reported \
                        or os.path.realpath(reported) != os.path.realpath(path):
                    sys.exit(f"split.py: {name} failed on {' '.join(cmd)}: rc={res['rc']} "
                             f"allocator={reported} {res['stderr'][-300:]}")
                got[name].append((values["time"] * 1e3, values["replay_time"] * 1e3))
        best = {name: (min(t for t, _ in v), min(r for _, r in v)) for name, v in got.items()}
        med = {name: (statistics.median(t for t, _ in v), statistics.median(r for _, r in v))
               for name, v in got.items()}
        best_peer = min(best[n][0] for n in harness.PEERS if n in best)
        for name, (total, replay) in best.items():
            needed = f"{best_peer / 1.1 - replay:.1f}" if name == "hakmem" else ""
            print(f"| ws={ws} {lo}..{hi} | {name} | {total:.1f} | {replay:.1f} | {total - replay:.1f} | "
                  f"{needed} | {med[name][0]:.1f} / {med[name][1]:.1f} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
