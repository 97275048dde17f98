#!/usr/bin/env bash
# instructions-per-pair.sh LIB [SIZE] -- exact instructions per malloc(SIZE)+free pair
# under LD_PRELOAD=LIB, from callgrind: (Ir(200k pairs) - Ir(100k pairs)) / 100k, which
# cancels start-up. Needs build/bench/bench_tiny_pairs (make -C bench).
set -euo pipefail
lib="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
size="${2:-64}"
root="$(cd "$(dirname "$0")/.." && pwd)"
[ -x "$root/build/bench/bench_tiny_pairs" ] || make -s -C "$root/bench" >/dev/null
ir() {
    LD_PRELOAD="$lib" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$root/build/bench/bench_tiny_pairs" "$1" "$size" 2>&1 | awk '/refs:/ {gsub(",", "", $4); print $4}'
}
a=$(ir 100000); b=$(ir 200000)
echo "$(( (b - a) / 100000 ))"
