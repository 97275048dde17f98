#!/usr/bin/env bash
# tests/reliability/sqlite.sh [LIB] - the sqlite3 shell under LD_PRELOAD=LIB.
# Runs sqlite_workload.sql (100k-row inserts, 3 indexes, updates, deletes,
# joins, GROUP BY, group_concat, window, JSON, blobs, VACUUM,
# integrity_check) on an on-disk WAL database and on an in-memory one.
# Each output must equal the values computed in Python by sqlite_expected.py
# and the output of the same run without preload (glibc); with hakmem the
# "hakmem: " banner must be on stderr. Installs sqlite3 (apt-get) if missing.
# Logs: build/reliability/sqlite/.
set -u
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
resolve_lib "$@"
rel_setup
D="$RLOGS/sqlite"
mkdir -p "$D"
fail_details() { [ -n "${2:-}" ] && [ -s "$2" ] && head -n 8 "$2" | sed 's/^/    /'; }

if ! pkg_install sqlite3 sqlite3; then
    fail sqlite_setup "sqlite3 missing and apt-get install sqlite3 failed ($RLOGS/apt-sqlite3.log)"
    finish
fi
echo "# $(sqlite3 --version | cut -d' ' -f1-2)"
if ! ref python3 "$REL/sqlite_expected.py" >"$D/expected.txt" 2>"$D/expected.err"; then
    fail sqlite_expected "sqlite_expected.py failed: $(tail -n 1 "$D/expected.err")"
    finish
fi

# run_db NAME DBARG RUNNER: sqlite3 -batch DBARG < workload
run_db() {
    local name="$1" db="$2" runner="$3" out="$D/$1.$3.out" err="$D/$1.$3.err" t0 rc
    [ "$db" != ":memory:" ] && rm -f "$db" "$db-wal" "$db-shm"
    local envc=("${PRE_ENV[@]}")
    [ "$runner" = ref ] && envc=("${REF_ENV[@]}")
    t0="$(now)"
    (timeout -k 5 300 "${envc[@]}" sqlite3 -batch "$db" <"$REL/sqlite_workload.sql" >"$out" 2>"$err"; exit $?) 2>/dev/null
    rc=$?
    record "sqlite.$name.$runner" "$t0" "$rc"
    echo "$(since "$t0")" >"$D/$1.$3.secs"
    [ "$db" != ":memory:" ] && rm -f "$db" "$db-wal" "$db-shm"
    return $rc
}

for mode in file memory; do
    if [ $mode = file ]; then db="$D/work.db"; else db=":memory:"; fi
    name="sqlite_$mode"
    run_db "$name" "$db" ref
    rrc=$?
    run_db "$name" "$db" pre
    rc=$?
    out="$D/$name.pre.out"
    echo "    $mode: glibc $(cat "$D/$name.ref.secs") s, under test $(cat "$D/$name.pre.secs") s, $(wc -l <"$out") result lines"
    if [ $rrc -ne 0 ] || ! cmp -s "$D/expected.txt" "$D/$name.ref.out"; then
        fail "${name}_reference" "the glibc run does not give the expected output: the test itself is wrong" "$D/$name.ref.err"
    fi
    if [ $rc -ne 0 ]; then
        fail "$name" "sqlite3 $(rc_text $rc)" "$D/$name.pre.err"
    elif ! cmp -s "$D/expected.txt" "$out"; then
        diff "$D/expected.txt" "$out" >"$D/$name.diff"
        fail "$name" "output differs from the expected values (first: $(grep -m1 '^[<>]' "$D/$name.diff"))" "$D/$name.diff"
    elif ! cmp -s "$D/$name.ref.out" "$out"; then
        fail "$name" "output differs from the run without preload"
    elif ! banner_ok "$D/$name.pre.err"; then
        fail "$name" "no 'hakmem: ' banner on stderr: hakmem did not serve sqlite3"
    else
        pass "$name"
    fi
done
finish
