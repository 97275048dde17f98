#!/usr/bin/env python3
"""hakmem benchmark harness: hakmem vs glibc, mimalloc, jemalloc, tcmalloc.

Runs every benchmark of bench/src under every allocator (LD_PRELOAD; glibc =
no preload), interleaved (A B C D E, A B C D E, ...), several runs each, at
1, nproc and 2*nproc threads where a benchmark takes a thread count (larson
also at 4*nproc, for its scaling table).  Every
run has a timeout; crashes, timeouts, non-zero exits and allocator mismatches
are recorded and shown in the tables, never dropped.  Each run's
`allocator=<path>` line is checked against the allocator it is supposed to
use.  Instructions per malloc+free pair are measured with callgrind.

Results: <repo>/bench/results/<timestamp>/{report.md, runs.json,
perf.png, rss.png} and the symlink <repo>/bench/results/latest.

Python 3 standard library only; matplotlib (optional) for the charts.
Usually started through bench/run.sh; see bench/README.md.
"""

import argparse
import datetime as _dt
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
LIBDIR = "/usr/lib/x86_64-linux-gnu"

# name -> (library path or None, apt package, check(reported path) -> bool)
PEERS = {
    "glibc": (None, None),
    "mimalloc": (f"{LIBDIR}/libmimalloc.so.2", "libmimalloc2.0"),
    "jemalloc": (f"{LIBDIR}/libjemalloc.so.2", "libjemalloc2"),
    "tcmalloc": (f"{LIBDIR}/libtcmalloc_minimal.so.4", "libtcmalloc-minimal4"),
}
ALLOC_ORDER = ["glibc", "mimalloc", "jemalloc", "tcmalloc", "hakmem"]
EXPECT = {  # substring that the reported allocator= path must contain
    "glibc": "libc.so",
    "mimalloc": "libmimalloc",
    "jemalloc": "libjemalloc",
    "tcmalloc": "libtcmalloc",
    "hakmem": "libhakmem",
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# benchmark definitions
# --------------------------------------------------------------------------

class Metric:
    def __init__(self, key, label, unit, higher_better, ratio=True):
        self.key, self.label, self.unit = key, label, unit
        self.higher_better, self.ratio = higher_better, ratio


TPUT = Metric("throughput", "throughput", "ops/s", True)
# bench_remote_free: blocks handed off and not yet freed (its peak RSS follows them)
INFLIGHT = [Metric("inflight_avg", "blocks in flight (avg)", "", False, ratio=False),
            Metric("inflight_max", "blocks in flight (max)", "", False, ratio=False)]


class Bench:
    """One benchmark program.  args(p, threads) -> argv tail; p = mode params."""

    def __init__(self, name, binary, args, metrics, threaded=False, primary=None, scaling=False):
        self.name, self.binary, self.args = name, binary, args
        self.metrics, self.threaded = metrics, threaded
        # scaling: also run at 4*nproc threads (oversubscribed) and report T=n / T=1
        self.scaling = scaling
        # metric used in the overview table and the chart
        self.primary = next(m for m in metrics if m.key == primary) if primary else metrics[0]


# parameters per mode.  quick: ~2 min for 5 allocators x 3 runs on 2 cores.
PARAMS = {
    "quick": dict(runs=3, timeout=30, larson_sec=0.4, rm_iter=8_000_000, rf_iter=1_000_000,
                  ml_iter=20_000, ra_obj=400, ra_rounds=20, ca_iter=600_000, me_mb=128,
                  lat_iter=1_000_000, tp_n=(100_000, 200_000)),
    "full": dict(runs=5, timeout=300, larson_sec=2.0, rm_iter=40_000_000, rf_iter=5_000_000,
                 ml_iter=100_000, ra_obj=2000, ra_rounds=20, ca_iter=3_000_000, me_mb=384,
                 lat_iter=5_000_000, tp_n=(100_000, 200_000)),
}

LAT_METRICS = [
    Metric("malloc_p50_ns", "malloc p50", "ns", False, ratio=False),
    Metric("malloc_p99_ns", "malloc p99", "ns", False),
    Metric("malloc_p999_ns", "malloc p99.9", "ns", False, ratio=False),
    Metric("free_p50_ns", "free p50", "ns", False, ratio=False),
    Metric("free_p99_ns", "free p99", "ns", False),
    Metric("free_p999_ns", "free p99.9", "ns", False, ratio=False),
]
MEM_METRICS = [
    Metric("rss_after_free_kb", "RSS after free phase", "kB", False),
    Metric("rss_final_kb", "RSS after regrow", "kB", False, ratio=False),
    Metric("time", "time", "s", False),
]


def make_benches(p):
    seed = "42"
    return [
        Bench("larson", "larson",
              lambda t: [str(p["larson_sec"]), "8", "1000", "2000", "20", seed, str(t)],
              [TPUT], threaded=True, scaling=True),
        # the four configurations of the tier issue's goals: working set x size range
        *[Bench(f"random_mixed ws={ws} {lo}..{hi}", "bench_random_mixed",
                lambda t, ws=ws, lo=lo, hi=hi: [str(p["rm_iter"]), str(ws), seed, str(lo), str(hi)],
                [TPUT])
          for ws in (8192, 400) for lo, hi in ((16, 1040), (16, 32768))],
        Bench("remote_free_pc", "bench_remote_free",
              lambda t: ["pc", str(t), str(p["rf_iter"]), "100", "16", "1024"],
              [TPUT] + INFLIGHT, threaded=True),
        Bench("remote_free_ring", "bench_remote_free",
              lambda t: ["ring", str(t), str(p["rf_iter"]), "50", "16", "1024"],
              [TPUT] + INFLIGHT, threaded=True),
        Bench("mid_large_mt", "bench_mid_large_mt",
              lambda t: [str(t), str(p["ml_iter"]), "64", seed], [TPUT], threaded=True),
        Bench("realloc", "bench_realloc",
              lambda t: [str(p["ra_obj"]), str(p["ra_rounds"]), seed],
              [Metric("throughput", "throughput", "reallocs/s", True)]),
        Bench("calloc_aligned", "bench_calloc_aligned",
              lambda t: [str(p["ca_iter"]), "4096", seed], [TPUT]),
        Bench("mem_efficiency", "bench_mem_efficiency",
              lambda t: [str(p["me_mb"]), seed], MEM_METRICS),
        Bench("latency", "bench_latency",
              lambda t: [str(p["lat_iter"]), "8192", seed], LAT_METRICS, primary="malloc_p99_ns"),
    ]


# --------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------

NUM_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=([-+]?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)")
TPUT_RE = re.compile(r"Throughput\s*=\s*([0-9.eE+]+)")


def parse_output(text):
    """-> (values dict, allocator path or None)"""
    values, alloc = {}, None
    for line in text.splitlines():
        if line.startswith("allocator="):
            alloc = line[len("allocator="):].strip()
            continue
        m = TPUT_RE.search(line)
        if m:
            values["throughput"] = float(m.group(1))
        for k, v in NUM_RE.findall(line):
            values[k] = float(v)
    return values, alloc


def alloc_matches(name, reported):
    if reported is None:
        return False
    base = os.path.basename(reported)
    if name == "glibc":
        return base.startswith("libc.so") or base.startswith("libc-")
    return EXPECT[name] in reported


def run_process(cmd, env, timeout):
    """Run cmd; returns dict(rc, signal, timed_out, stdout, stderr, wall, maxrss_kb)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        try:
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                    env=env, start_new_session=True)
        except OSError as e:
            return dict(rc=None, signal=None, timed_out=False, stdout="", stderr=str(e),
                        wall=0.0, maxrss_kb=None, spawn_error=True)
        timed_out = threading.Event()

        def _kill():
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

        timer = threading.Timer(timeout, _kill)
        timer.start()
        try:
            _, status, ru = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped
        # kill leftovers of the process group (e.g. valgrind helpers)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        out.seek(0)
        err.seek(0)
        code = proc.returncode
        return dict(rc=code if code >= 0 else None, signal=-code if code < 0 else None,
                    timed_out=timed_out.is_set(),
                    stdout=out.read().decode(errors="replace"),
                    stderr=err.read().decode(errors="replace"),
                    wall=wall, maxrss_kb=ru.ru_maxrss)


def env_for(lib):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if lib:
        env["LD_PRELOAD"] = lib
    return env


def classify(name, res, need_keys):
    """-> (status, note, values, reported allocator)"""
    values, reported = parse_output(res["stdout"])
    err_tail = " ".join(res["stderr"].strip().splitlines()[-2:])[:200]
    if res.get("spawn_error"):
        return "error", "cannot start: " + res["stderr"], values, reported
    if res["timed_out"]:
        return "timeout", f"killed after {res['wall']:.0f}s", values, reported
    if res["signal"]:
        try:
            sname = signal.Signals(res["signal"]).name
        except ValueError:
            sname = f"signal {res['signal']}"
        return "crash", sname + (": " + err_tail if err_tail else ""), values, reported
    if res["rc"] != 0:
        return "error", f"exit {res['rc']}" + (": " + err_tail if err_tail else ""), values, reported
    if reported is None:
        return "error", "no allocator= line", values, reported
    if not alloc_matches(name, reported):
        return "mismatch", f"ran with {reported}, expected *{EXPECT[name]}*", values, reported
    missing = [k for k in need_keys if k not in values]
    if missing:
        return "error", "result line lacks " + ",".join(missing), values, reported
    return "ok", "", values, reported


# --------------------------------------------------------------------------
# formatting
# --------------------------------------------------------------------------

def fmt_num(v, unit):
    if v is None:
        return "-"
    if unit == "kB":
        return f"{v / 1024:.1f} MB"
    if unit == "s":
        return f"{v:.3f} s"
    if unit == "ns":
        return f"{v:.0f} ns"
    if unit in ("ops/s", "reallocs/s"):
        if v >= 1e6:
            return f"{v / 1e6:.2f} M/s"
        if v >= 1e3:
            return f"{v / 1e3:.1f} k/s"
        return f"{v:.0f} /s"
    return f"{v:g}"


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x"


def median(xs):
    return statistics.median(xs) if xs else None


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


# --------------------------------------------------------------------------
# main flow
# --------------------------------------------------------------------------

def sh(cmd, **kw):
    log("+ " + " ".join(cmd))
    return subprocess.run(cmd, **kw)


def ensure_peers(allocs, no_install):
    missing = [a for a in allocs if a in PEERS and PEERS[a][1] and not os.path.exists(PEERS[a][0])]
    pkgs = [PEERS[a][1] for a in missing] + ([] if shutil.which("valgrind") else ["valgrind"])
    if pkgs and not no_install:
        log(f"missing ({', '.join(missing + (['valgrind'] if 'valgrind' in pkgs else []))}): "
            f"installing {' '.join(pkgs)}")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        sh(["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL)
        sh(["apt-get", "install", "-y", "-qq"] + pkgs, env=env, stdout=subprocess.DEVNULL)
    problems = {}
    for a in allocs:
        if a in PEERS and PEERS[a][0] and not os.path.exists(PEERS[a][0]):
            problems[a] = (f"{PEERS[a][0]} not found (apt-get install {PEERS[a][1]})" if PEERS[a][1]
                           else f"{PEERS[a][0]} not found")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_const", const="quick", dest="mode")
    mode.add_argument("--full", action="store_const", const="full", dest="mode")
    ap.add_argument("--no-build", action="store_true",
                    help="do not run 'make -C <repo> lib' (benchmarks are still built)")
    ap.add_argument("--no-install", action="store_true", help="never apt-get/pip install")
    ap.add_argument("--runs", type=int, help="runs per allocator and configuration")
    ap.add_argument("--only", help="comma list of benchmark names (e.g. larson,latency,callgrind)")
    ap.add_argument("--allocators", help="comma list (default: glibc,mimalloc,jemalloc,tcmalloc,hakmem)")
    ap.add_argument("--threads", help="comma list of thread counts (default: 1,nproc,2*nproc)")
    ap.add_argument("--timeout", type=float, help="per-run timeout in seconds")
    ap.add_argument("--extra", action="append", default=[], metavar="NAME=PATH",
                    help="also measure the library PATH as column NAME (e.g. "
                         "hakmem-unhardened=build/lib/libhakmem-unhardened.so); repeatable")
    ap.add_argument("--hakmem-lib", default=os.environ.get("HAKMEM_LIB", f"{REPO}/build/lib/libhakmem.so"))
    ap.add_argument("--out", default=f"{REPO}/bench/results", help="results root directory")
    ap.add_argument("--allow-missing-hakmem", action="store_true",
                    help="exit 0 even if libhakmem.so is missing (peers are still measured)")
    args = ap.parse_args()
    args.mode = args.mode or "quick"
    P = dict(PARAMS[args.mode])
    runs = args.runs or P["runs"]
    timeout = args.timeout or P["timeout"]
    for spec in args.extra:   # extra columns: measured like a peer, listed before hakmem
        name, _, path = spec.partition("=")
        if not name or not path:
            ap.error(f"--extra wants NAME=PATH, got {spec!r}")
        path = os.path.abspath(path)
        PEERS[name] = (path, None)
        EXPECT[name] = os.path.basename(path).split(".so")[0]
        ALLOC_ORDER.insert(ALLOC_ORDER.index("hakmem"), name)
    allocs = args.allocators.split(",") if args.allocators else list(ALLOC_ORDER)
    for a in allocs:
        if a not in ALLOC_ORDER:
            ap.error(f"unknown allocator {a}")
    only = set(args.only.split(",")) if args.only else None
    ncpu = len(os.sched_getaffinity(0))
    threads = ([int(x) for x in args.threads.split(",")] if args.threads
               else sorted({1, ncpu, 2 * ncpu}))
    t_start = time.monotonic()
    load_start = os.getloadavg()

    # 1. build the benchmark programs
    bindir = f"{REPO}/build/bench"
    r = sh(["make", "-s", "-C", BENCH_DIR], stdout=sys.stderr)
    if r.returncode != 0:
        log("ERROR: building the benchmarks failed (make -C bench)")
        return 3

    # 2. build hakmem
    hakmem_lib = os.path.abspath(args.hakmem_lib)
    problems, notes = {}, []
    if "hakmem" in allocs:
        if not args.no_build:
            r = sh(["make", "-C", REPO, "lib"], stdout=sys.stderr)
            if r.returncode != 0:
                log(f"ERROR: 'make -C {REPO} lib' failed (exit {r.returncode})")
                if os.path.exists(hakmem_lib):
                    mt = _dt.datetime.fromtimestamp(os.path.getmtime(hakmem_lib)).isoformat(timespec="seconds")
                    notes.append(f"'make -C {REPO} lib' failed (exit {r.returncode}): measured the "
                                 f"existing {hakmem_lib} (built {mt}), which may be stale")
                    log("WARNING: " + notes[-1])
        else:
            notes.append("hakmem was not rebuilt (--no-build)")
        if not os.path.exists(hakmem_lib):
            problems["hakmem"] = (f"{hakmem_lib} not found: build it with 'make lib' "
                                  f"(or set HAKMEM_LIB)")
            log("ERROR: hakmem library missing: " + problems["hakmem"])
            log("       continuing with the peers; the hakmem column is marked MISSING")

    # 3. peers
    problems.update(ensure_peers(allocs, args.no_install))
    libs = {a: (hakmem_lib if a == "hakmem" else PEERS[a][0]) for a in allocs}
    active = [a for a in allocs if a not in problems]

    # 4. runs
    benches = [b for b in make_benches(P) if only is None or b.name in only]
    configs = []  # (config id, bench, threads or None)
    for b in benches:
        if b.threaded:
            extra = [4 * ncpu] if b.scaling and not args.threads else []
            for t in sorted(set(threads + extra)):
                configs.append((f"{b.name} T={t}", b, t))
        else:
            configs.append((b.name, b, None))

    records = []
    total = len(configs) * runs * len(active)
    done = 0
    for cid, b, t in configs:
        timed_out = set()  # allocators that hit the timeout in this configuration
        for run in range(runs):
            for a in active:  # interleaved: A B C D E, A B C D E, ...
                cmd = [f"{bindir}/{b.binary}"] + b.args(t if t is not None else 1)
                need = [m.key for m in b.metrics]
                if a in timed_out:
                    # do not burn another full timeout on a hanging allocator
                    res = dict(rc=None, signal=None, timed_out=False, stdout="", stderr="",
                               wall=0.0, maxrss_kb=None)
                    status, note, values, reported = "skipped", "an earlier run timed out", {}, None
                else:
                    res = run_process(cmd, env_for(libs[a]), timeout)
                    status, note, values, reported = classify(a, res, need)
                    if status == "timeout":
                        timed_out.add(a)
                done += 1
                rec = dict(config=cid, bench=b.name, threads=t, allocator=a, run=run,
                           cmd=cmd, lib=libs[a], status=status, note=note, values=values,
                           reported_allocator=reported, wall_s=round(res["wall"], 4),
                           maxrss_kb=res["maxrss_kb"], rc=res["rc"], signal=res["signal"],
                           stderr_tail=res["stderr"][-2000:])
                records.append(rec)
                shown = values.get(b.primary.key)
                log(f"[{done}/{total}] {cid:<22} {a:<9} run {run + 1}: "
                    + (fmt_num(shown, b.primary.unit) if status == "ok" else f"{status.upper()} {note}"))

    # 5. callgrind: instructions per malloc+free pair
    cg = {}
    if only is None or "callgrind" in only:
        cg = run_callgrind(active, libs, bindir, P["tp_n"], max(timeout, 300))

    elapsed = time.monotonic() - t_start

    # 6. report
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    outdir = os.path.join(args.out, stamp)
    os.makedirs(outdir, exist_ok=True)
    load = (load_start, os.getloadavg())
    report = build_report(args.mode, runs, threads, allocs, problems, configs, records, cg,
                          elapsed, libs, load, notes)
    with open(os.path.join(outdir, "runs.json"), "w") as f:
        json.dump(dict(mode=args.mode, runs=runs, loadavg=load, threads=threads, allocators=allocs,
                       libs=libs, problems=problems, elapsed_s=elapsed, params=P,
                       machine=machine_info(), records=records, callgrind=cg), f, indent=1)
    charts = make_charts(configs, records, allocs, outdir, args.no_install, cg)
    if charts:
        report += "\n## Charts\n\n" + "\n".join(f"![{c}]({c})" for c in charts) + "\n"
    else:
        report += "\n(charts skipped: matplotlib unavailable)\n"
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write(report)
    latest = os.path.join(args.out, "latest")
    try:
        tmp = latest + ".tmp"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(stamp, tmp)
        os.replace(tmp, latest)
    except OSError as e:
        log(f"warning: cannot update {latest}: {e}")
    print(report)
    log(f"\nreport: {outdir}/report.md  (also {latest}/)  total time {elapsed:.1f}s")

    # exit status: hakmem failures / absence are errors
    hk_bad = [r for r in records if r["allocator"] == "hakmem" and r["status"] != "ok"]
    if "hakmem" in problems:
        log("ERROR: hakmem was not measured: " + problems["hakmem"])
        return 0 if args.allow_missing_hakmem else 2
    if hk_bad:
        log(f"ERROR: {len(hk_bad)} hakmem run(s) failed (see report)")
        return 1
    return 0


def run_callgrind(active, libs, bindir, ns, timeout):
    """instructions per pair = (Ir(N2) - Ir(N1)) / (N2 - N1)"""
    vg = shutil.which("valgrind")
    out = {}
    if not vg:
        log("warning: valgrind not found: callgrind section skipped")
        return {a: dict(status="error", note="valgrind not installed") for a in active}
    n1, n2 = ns
    tmpd = tempfile.mkdtemp(prefix="hakmem-cg-")
    try:
        totals = {a: {} for a in active}
        status = {a: ("ok", "") for a in active}
        for n in (n1, n2):
            for a in active:
                if status[a][0] != "ok":
                    continue
                cgfile = os.path.join(tmpd, f"{a}.{n}.out")
                cmd = [vg, "--tool=callgrind", f"--callgrind-out-file={cgfile}",
                       f"{bindir}/bench_tiny_pairs", str(n), "64"]
                res = run_process(cmd, env_for(libs[a]), timeout)
                st, note, values, reported = classify(a, res, ["n"])
                ir = None
                if st == "ok":
                    try:
                        with open(cgfile) as f:
                            for line in f:
                                if line.startswith("summary:") or line.startswith("totals:"):
                                    ir = int(line.split()[1])
                                    break
                    except OSError:
                        pass
                    if ir is None:
                        st, note = "error", "no callgrind totals"
                status[a] = (st, note)
                totals[a][n] = ir
                log(f"callgrind {a:<9} N={n}: " + (f"Ir={ir}" if st == "ok" else f"{st.upper()} {note}"))
        for a in active:
            st, note = status[a]
            if st == "ok":
                per = (totals[a][n2] - totals[a][n1]) / (n2 - n1)
                out[a] = dict(status="ok", note="", ir_n1=totals[a][n1], ir_n2=totals[a][n2],
                              n1=n1, n2=n2, per_pair=per, per_pair_int=int(round(per)))
            else:
                out[a] = dict(status=st, note=note)
    finally:
        shutil.rmtree(tmpd, ignore_errors=True)
    return out


def machine_info():
    info = dict(nproc=len(os.sched_getaffinity(0)), kernel=platform.release(),
                python=platform.python_version())
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        info["cc"] = subprocess.run(["cc", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        pass
    vers = {}
    for pkg in ("libc6", "libmimalloc2.0", "libjemalloc2", "libtcmalloc-minimal4"):
        try:
            r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
            if r.returncode == 0:
                vers[pkg] = r.stdout.strip()
        except OSError:
            pass
    info["packages"] = vers
    try:
        r = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        info["git"] = r.stdout.strip() if r.returncode == 0 else "(no commit)"
    except OSError:
        pass
    return info


def summarize(records, cid, a, metrics):
    rs = [r for r in records if r["config"] == cid and r["allocator"] == a]
    ok = [r for r in rs if r["status"] == "ok"]
    bad = [r for r in rs if r["status"] != "ok"]
    med = {m.key: median([r["values"][m.key] for r in ok]) for m in metrics}
    rss = [r["values"].get("peak_rss_kb") or r["maxrss_kb"] for r in ok]
    med["peak_rss_kb"] = median([x for x in rss if x])
    spread = {}
    for m in metrics:
        xs = [r["values"][m.key] for r in ok if m.key in r["values"]]
        if len(xs) >= 2 and med.get(m.key):
            spread[m.key] = (max(xs) - min(xs)) / med[m.key]
    return dict(n=len(rs), ok=len(ok), bad=bad, med=med, spread=spread)


def scaling_section(configs, allocs, problems, sums, ncpu):
    """Markdown lines: per scaling benchmark, each allocator's median throughput at every
    thread count as a multiple of its own 1-thread median, and the runs that completed.
    The tier issue's goal: larson at 2 threads >= 1.8x its 1-thread figure, every run
    completing when oversubscribed."""
    L = []
    for b in dict.fromkeys(b for _, b, t in configs if b.scaling and t is not None):
        ts = [(cid, t) for cid, bb, t in configs if bb is b]
        one = next((cid for cid, t in ts if t == 1), None)
        if one is None:
            continue
        L.append(f"## Scaling ({b.name})\n")
        L.append(f"Median {b.primary.label} at T threads / the same allocator's median at 1 thread "
                 f"(the machine has {ncpu} CPUs; larger T are oversubscribed). "
                 "Goal for hakmem: >= 1.80x at T=2; every run completes.\n")
        rows = []
        for a in allocs:
            if a in problems:
                rows.append([a] + ["MISSING"] * len(ts) + ["-"])
                continue
            base = sums[(one, a)]["med"].get(b.primary.key)
            row = [a]
            for cid, t in ts:
                v = sums[(cid, a)]["med"].get(b.primary.key)
                row.append(fmt_num(v, b.primary.unit) if t == 1 else
                           (f"{v / base:.2f}x" if v is not None and base else "-"))
            done = sum(sums[(cid, a)]["ok"] for cid, _ in ts)
            row.append(f"{done}/{sum(sums[(cid, a)]['n'] for cid, _ in ts)}")
            rows.append(row)
        L.append(md_table(["allocator"] + [f"T={t}" for _, t in ts] + ["runs completed"], rows))
        L.append("")
    return L


def status_cell(s, problem):
    if problem:
        return "MISSING"
    if s["n"] == 0:
        return "-"
    if not s["bad"]:
        return f"{s['ok']}/{s['n']}"
    kinds = {}
    for r in s["bad"]:
        k = r["status"].upper()
        if r["status"] == "crash":
            k = r["note"].split(":")[0]
        kinds[k] = kinds.get(k, 0) + 1
    return f"{s['ok']}/{s['n']} (" + ", ".join(f"{k} x{v}" for k, v in kinds.items()) + ")"


def value_cell(s, key, unit, problem):
    if problem:
        return "MISSING"
    if s["ok"] == 0:
        if s["n"] == 0:
            return "-"
        return "**" + s["bad"][0]["status"].upper() + "**"
    return fmt_num(s["med"].get(key), unit)


def ratio(hk, peer, key):
    if not hk or not peer:
        return None
    h, p = hk["med"].get(key), peer["med"].get(key)
    if h is None or p in (None, 0):
        return None
    return h / p


def build_report(mode, runs, threads, allocs, problems, configs, records, cg, elapsed, libs, load,
                 notes=()):
    mi = machine_info()
    L = []
    L.append(f"# hakmem benchmark report ({mode} mode)\n")
    L.append(f"- date: {_dt.datetime.now().isoformat(timespec='seconds')}, total time {elapsed:.0f} s")
    L.append(f"- machine: {mi.get('cpu', '?')}, nproc={mi['nproc']}, kernel {mi['kernel']}, {mi.get('cc', '')}")
    L.append(f"- repo revision: {mi.get('git', '?')}; runs per allocator and configuration: {runs}; "
             f"thread counts: {', '.join(map(str, threads))}")
    L.append("- allocators: " + "; ".join(
        f"{a} = {libs[a] or 'glibc malloc (no LD_PRELOAD)'}" for a in allocs))
    if mi.get("packages"):
        L.append("- package versions: " + ", ".join(f"{k} {v}" for k, v in mi["packages"].items()))
    L.append(f"- load average (1 min) at start {load[0][0]:.2f}, at end {load[1][0]:.2f}")
    if load[0][0] > 0.5 * mi["nproc"]:
        L.append(f"- **warning: the machine was busy when the suite started (load {load[0][0]:.2f} "
                 f"on {mi['nproc']} CPUs): timings are noisy, compare the spread column**")
    for a, why in problems.items():
        L.append(f"- **{a} not measured: {why}**")
    for n in notes:
        L.append(f"- note: {n}")
    L.append("")
    L.append("Values are medians over the successful runs. Ratio columns are "
             "**hakmem / that allocator** for the same metric: for throughput > 1 means hakmem is "
             "faster; for RSS, time and latency < 1 means hakmem is better. "
             "*spread* = (max - min) / median of the successful runs. "
             "A run that crashed, timed out, exited non-zero or reported the wrong allocator is "
             "counted in the *runs* column and never used as a result.\n")

    have_hk = "hakmem" in allocs and "hakmem" not in problems
    sums = {}
    # overview
    hdr = ["benchmark", "metric"] + allocs + (["hakmem vs best peer"] if have_hk else [])
    rows = []
    for cid, b, t in configs:
        m = b.primary
        row = [cid, f"{m.label} ({'higher' if m.higher_better else 'lower'} is better)"]
        best = None
        for a in allocs:
            s = summarize(records, cid, a, b.metrics + [Metric("peak_rss_kb", "", "kB", False)])
            sums[(cid, a)] = s
            row.append(value_cell(s, m.key, m.unit, a in problems))
            v = s["med"].get(m.key)
            if a != "hakmem" and v is not None:
                if best is None or (v > best if m.higher_better else v < best):
                    best = v
        if have_hk:
            hv = sums[(cid, "hakmem")]["med"].get(m.key)
            row.append(fmt_ratio(hv / best if hv is not None and best else None))
        rows.append(row)
    L.append("## Overview\n")
    L.append(md_table(hdr, rows))
    L.append("")
    L.extend(scaling_section(configs, allocs, problems, sums, mi["nproc"]))

    # per-configuration tables
    L.append("## Per benchmark\n")
    for cid, b, t in configs:
        L.append(f"### {cid}\n")
        if records:
            ex = next((r for r in records if r["config"] == cid), None)
            if ex:
                L.append("`" + " ".join([os.path.basename(ex["cmd"][0])] + ex["cmd"][1:]) + "`\n")
        hdr = (["allocator"] + [f"{m.label}" for m in b.metrics]
               + ["peak RSS", "runs", f"spread ({b.primary.label})"])
        rmetrics = [m for m in b.metrics if m.ratio]
        if have_hk:
            hdr += [f"hakmem/this {m.label}" for m in rmetrics] + ["hakmem/this RSS"]
        rows = []
        hk = sums.get((cid, "hakmem")) if have_hk else None
        for a in allocs:
            s = sums[(cid, a)]
            prob = a in problems
            row = [a] + [value_cell(s, m.key, m.unit, prob) for m in b.metrics]
            row += [value_cell(s, "peak_rss_kb", "kB", prob), status_cell(s, prob)]
            sp = s["spread"].get(b.primary.key)
            row.append("-" if sp is None else f"{sp * 100:.0f}%")
            if have_hk:
                row += [fmt_ratio(ratio(hk, s, m.key)) for m in rmetrics]
                row += [fmt_ratio(ratio(hk, s, "peak_rss_kb"))]
            rows.append(row)
        L.append(md_table(hdr, rows))
        notes = []
        for a in allocs:
            for r in sums[(cid, a)]["bad"][:1]:
                notes.append(f"- {a}: {r['status']}: {r['note']}")
        if notes:
            L.append("\nFailures (first per allocator):\n" + "\n".join(notes))
        L.append("")

    if cg:
        L.append("## Instructions per malloc(64)+free pair (callgrind)\n")
        ex = next(iter(cg.values()))
        if "n1" in ex:
            L.append(f"(Ir(N={ex['n2']}) - Ir(N={ex['n1']})) / {ex['n2'] - ex['n1']}, "
                     "from `valgrind --tool=callgrind bench_tiny_pairs N 64`. Lower is better.\n")
        hdr = ["allocator", "instructions/pair", "exact"] + (["hakmem/this"] if have_hk else [])
        rows = []
        hkv = cg.get("hakmem", {}).get("per_pair") if have_hk else None
        for a in allocs:
            c = cg.get(a)
            if a in problems or c is None:
                rows.append([a, "MISSING" if a in problems else "-", "-"] + (["-"] if have_hk else []))
                continue
            if c["status"] != "ok":
                rows.append([a, f"**{c['status'].upper()}** {c['note'][:80]}", "-"] + (["-"] if have_hk else []))
                continue
            row = [a, str(c["per_pair_int"]), f"{c['per_pair']:.2f}"]
            if have_hk:
                row.append(fmt_ratio(hkv / c["per_pair"] if hkv and c["per_pair"] else None))
            rows.append(row)
        L.append(md_table(hdr, rows))
        L.append("")
    return "\n".join(L) + "\n"


def make_charts(configs, records, allocs, outdir, no_install, cg):
    try:
        import matplotlib
    except ImportError:
        if not no_install:
            log("matplotlib missing: trying pip install matplotlib")
            r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "matplotlib"],
                               stdout=sys.stderr, stderr=sys.stderr)
            if r.returncode != 0:
                log("WARNING: pip install matplotlib failed: PNG charts skipped")
                return []
        try:
            import matplotlib  # noqa: F811
        except ImportError:
            log("WARNING: matplotlib not available: PNG charts skipped")
            return []
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def norm_series(key_of, better_high):
        labels, data = [], {a: [] for a in allocs}
        for cid, b, t in configs:
            key = key_of(b)
            hib = better_high(b)
            meds = {}
            for a in allocs:
                vals = [r["values"].get(key) or (r["maxrss_kb"] if key == "peak_rss_kb" else None)
                        for r in records if r["config"] == cid and r["allocator"] == a and r["status"] == "ok"]
                vals = [v for v in vals if v]
                meds[a] = median(vals)
            base = meds.get("glibc")
            if not base:
                continue
            labels.append(cid)
            for a in allocs:
                v = meds[a]
                if v is None:
                    data[a].append(None)
                elif hib:
                    data[a].append(v / base)
                else:
                    data[a].append(base / v if key != "peak_rss_kb" else v / base)
        return labels, data

    def add_callgrind(labels, data):
        base = (cg.get("glibc") or {}).get("per_pair")
        if not base:
            return
        labels.append("instr/pair (callgrind)")
        for a in allocs:
            v = (cg.get(a) or {}).get("per_pair")
            data[a].append(base / v if v else None)

    files = []
    colors = {"glibc": "#888888", "mimalloc": "#1f77b4", "jemalloc": "#2ca02c",
              "tcmalloc": "#ff7f0e", "hakmem": "#d62728"}
    for fname, title, key_of, hib in (
        ("perf.png", "Performance relative to glibc (higher is better; time/latency inverted)",
         lambda b: b.primary.key, lambda b: b.primary.higher_better),
        ("rss.png", "Peak RSS relative to glibc (lower is better)",
         lambda b: "peak_rss_kb", lambda b: False),
    ):
        labels, data = norm_series(key_of, hib)
        if fname == "perf.png":
            add_callgrind(labels, data)
        if not labels:
            continue
        n = len(allocs)
        width = 0.8 / n
        fig, ax = plt.subplots(figsize=(max(10, len(labels) * 0.9), 5.5))
        for i, a in enumerate(allocs):
            xs = [j + (i - (n - 1) / 2) * width for j in range(len(labels))]
            ax.bar(xs, [v or 0.0 for v in data[a]], width, label=a, color=colors.get(a))
            for x, v in zip(xs, data[a]):  # failed / missing: mark, never a silent gap
                if v is None:
                    ax.text(x, 0.02, "x", ha="center", va="bottom", color=colors.get(a),
                            fontsize=9, fontweight="bold")
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("relative to glibc = 1.0  (x = failed / not measured)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, fname), dpi=110)
        plt.close(fig)
        files.append(fname)
    return files


if __name__ == "__main__":
    sys.exit(main())
