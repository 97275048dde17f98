#!/usr/bin/env python3
"""ab.py -- A/B comparison of two allocator libraries on the benchmark suite.

    bench/ab.py [--runs N] [--mode quick|full] [--threads 1,2] [--only NAMES] A.so B.so

Runs every configuration of the suite (the same programs and arguments as harness.py)
under A and B alternately (A B B A ...), N times each, and prints per configuration the
best and the median of the primary metric for both and the ratio B / A (> 1: B is
better, for every metric). On a shared, noisy machine the best of N is the steadier
estimate of what the code costs (a run can only be slowed down by other tenants); the
median shows the spread. Used for before/after measurements of one change and for the
hardening cost (A = build/lib/libhakmem-unhardened.so, B = build/lib/libhakmem.so).
"""
import argparse
import math
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--mode", choices=sorted(harness.PARAMS), default="quick")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--only", help="comma list of benchmark names")
    args = ap.parse_args()
    libs = [os.path.abspath(args.a), os.path.abspath(args.b)]
    for lib in libs:
        if not os.path.exists(lib):
            sys.exit(f"ab.py: no such library: {lib}")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bindir = os.path.join(root, "build", "bench")
    p = harness.PARAMS[args.mode]
    threads = [int(t) for t in args.threads.split(",")]
    only = set(args.only.split(",")) if args.only else None

    print(f"A = {libs[0]}\nB = {libs[1]}\n{args.runs} runs each, alternating; ratio = B / A "
          "(> 1: B better)\n")
    print("| benchmark | metric | A best | B best | ratio (best) | A median | B median | ratio (median) |")
    print("|---|---|---|---|---|---|---|---|")
    logs = []
    for bench in harness.make_benches(p):
        if only and bench.name not in only:
            continue
        for t in (threads if bench.threaded else [1]):
            cmd = [os.path.join(bindir, bench.binary)] + bench.args(t)
            metric = bench.primary
            values = [[], []]
            for i in range(args.runs):
                order = (0, 1) if i % 2 == 0 else (1, 0)
                for k in order:
                    res = harness.run_process(cmd, harness.env_for(libs[k]), p["timeout"])
                    got, reported = harness.parse_output(res["stdout"])
                    if res["rc"] != 0 or metric.key not in got or reported is None \
                            or os.path.basename(libs[k]) not in reported:
                        sys.exit(f"ab.py: {' '.join(cmd)} under {libs[k]} failed: rc={res['rc']} "
                                 f"allocator={reported} {res['stderr'][-300:]}")
                    values[k].append(got[metric.key])
            pick = max if metric.higher_better else min
            best = [pick(v) for v in values]
            med = [statistics.median(v) for v in values]

            def r(x):
                return x[1] / x[0] if metric.higher_better else x[0] / x[1]

            logs.append(math.log(r(best)))
            name = bench.name + (f" T={t}" if bench.threaded else "")
            print(f"| {name} | {metric.label} | {harness.fmt_num(best[0], metric.unit)} | "
                  f"{harness.fmt_num(best[1], metric.unit)} | {r(best):.3f} | "
                  f"{harness.fmt_num(med[0], metric.unit)} | {harness.fmt_num(med[1], metric.unit)} | "
                  f"{r(med):.3f} |", flush=True)
    if logs:
        print(f"\ngeometric mean of the best-of-{args.runs} ratios: {math.exp(sum(logs) / len(logs)):.3f}")


if __name__ == "__main__":
    main()
