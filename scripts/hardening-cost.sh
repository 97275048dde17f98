#!/usr/bin/env bash
# hardening-cost.sh -- what the release checks cost, in exact instructions: runs each
# single-threaded benchmark of the suite under callgrind with the hardened library
# (build/lib/libhakmem.so) and the same sources built with -DHAKMEM_UNHARDENED
# (make lib-unhardened), and prints instructions per run and the ratio.
# Deterministic (callgrind counts instructions, not time); timed ratios come from
# `bench/run.sh --allocators hakmem-unhardened,hakmem --extra hakmem-unhardened=...`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
[ -f build/lib/libhakmem.so ] && [ -f build/lib/libhakmem-unhardened.so ] || make -s lib lib-unhardened
make -s -C bench >/dev/null
b=build/bench
configs=(
    "larson:$b/larson 0 8 1000 2000 20 42 1"
    "random_mixed ws=8192 16..1040:$b/bench_random_mixed 2000000 8192 42 16 1040"
    "random_mixed ws=8192 16..32768:$b/bench_random_mixed 1000000 8192 42 16 32768"
    "random_mixed ws=400 16..1040:$b/bench_random_mixed 2000000 400 42 16 1040"
    "random_mixed ws=400 16..32768:$b/bench_random_mixed 1000000 400 42 16 32768"
    "remote_free_pc T=1:$b/bench_remote_free pc 1 200000 100 16 1024"
    "remote_free_ring T=1:$b/bench_remote_free ring 1 200000 50 16 1024"
    "mid_large_mt T=1:$b/bench_mid_large_mt 1 5000 64 42"
    "realloc:$b/bench_realloc 400 20 42"
    "calloc_aligned:$b/bench_calloc_aligned 100000 4096 42"
    "latency:$b/bench_latency 200000 8192 42"
)
ir() {
    LD_PRELOAD="$root/$1" valgrind --tool=callgrind --callgrind-out-file=/dev/null $2 2>&1 \
        | awk '/refs:/ {gsub(",", "", $4); print $4}'
}
printf '| benchmark | hardened Ir | unhardened Ir | hardened / unhardened |\n|---|---|---|---|\n'
logsum=0
for c in "${configs[@]}"; do
    name="${c%%:*}"; cmd="${c#*:}"
    h=$(ir build/lib/libhakmem.so "$cmd"); u=$(ir build/lib/libhakmem-unhardened.so "$cmd")
    r=$(python3 -c "print(f'{$h/$u:.3f}')")
    printf '| %s | %s | %s | %s |\n' "$name" "$h" "$u" "$r"
    logsum=$(python3 -c "import math; print($logsum + math.log($h/$u))")
done
python3 -c "import math; print(f'\ngeometric mean: {math.exp($logsum/${#configs[@]}):.3f}')"
