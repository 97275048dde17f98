#!/usr/bin/env bash
# tests/sanitizers.sh -- the in-process tests (swift test: size classes, layout,
# remote frees, abandonment/adoption across threads, large blocks, hardening) under
# ThreadSanitizer and AddressSanitizer. Each has its own build folder. A sanitizer
# report fails the run; LeakSanitizer ignores only XCTest's own harness objects.
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
supp="$root/build/lsan-xctest.supp"
mkdir -p build
printf 'leak:XCTest\nleak:libXCTest\n' > "$supp"
pass=0; fail=0
run() {
    local name="$1"; shift
    local log="build/sanitizer-$name.log"
    "$@" >"$log" 2>&1
    local rc=$?
    if [ $rc -eq 0 ] && ! grep -qE 'WARNING: ThreadSanitizer|ERROR: (Address|Leak)Sanitizer' "$log" \
       && grep -q 'Test run with .* passed' "$log"; then
        echo "PASS $name"; pass=$((pass+1))
    else
        echo "FAIL $name (exit $rc; see $log)"
        grep -E -A6 'WARNING: ThreadSanitizer|ERROR: (Address|Leak)Sanitizer' "$log" | head -20 | sed 's/^/    /'
        fail=$((fail+1))
    fi
}
run tsan swift test --sanitize=thread --scratch-path .build-tsan
LSAN_OPTIONS="suppressions=$supp" run asan swift test --sanitize=address --scratch-path .build-asan
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
