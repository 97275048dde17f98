#!/usr/bin/env bash
# Build and run the hakmem benchmark suite against glibc, mimalloc, jemalloc,
# tcmalloc and hakmem.  Used by `make bench`.
#
#   bench/run.sh [--quick|--full] [--no-build] [harness options...]
#
#   --quick (default)  3 runs per allocator, short parameters (~2 minutes)
#   --full             5 runs, longer parameters (~10-20 minutes)
#   --no-build         do not run `make -C <repo> lib` (uses the existing
#                      build/lib/libhakmem.so or $HAKMEM_LIB)
# Other options are passed to bench/harness.py (see --help there): --runs N,
# --only larson,latency,callgrind, --allocators glibc,hakmem, --threads 1,2,
# --timeout S, --hakmem-lib PATH, --allow-missing-hakmem, --no-install.
#
# Results: bench/results/<timestamp>/report.md (+ runs.json, perf.png,
# rss.png) and bench/results/latest.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! command -v python3 >/dev/null 2>&1; then
    echo "run.sh: python3 is required" >&2
    exit 3
fi
exec python3 "$here/harness.py" "$@"
