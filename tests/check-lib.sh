#!/usr/bin/env bash
# check-lib.sh LIB -- checks of the built library itself:
#   1. it links libc only (ldd);
#   2. it exports exactly the intended symbols (nm -D --defined-only vs exports.map);
#   3. the malloc and free fast paths contain no call (objdump): calls only appear
#      after the fast path's conditional jumps, as tail jumps to *Slow functions.
set -u
lib="${1:?usage: check-lib.sh path/to/libhakmem.so}"
root="$(cd "$(dirname "$0")/.." && pwd)"
pass=0; fail=0
ok() { echo "PASS $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }

deps=$(ldd "$lib" | awk '{print $1}' | grep -vE '^(linux-vdso\.so\.1|libc\.so\.6|/lib64/ld-linux-x86-64\.so\.2)$')
[ -z "$deps" ] && ok "links libc only" || bad "links libc only (also: $deps)"

expected=$(sed -n '/global:/,/local:/p' "$root/Sources/HakmemExports/exports.map" | tr ' ;' '\n\n' \
    | grep -vE '^(global:|local:|\*|)$' | sort)
actual=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TWDBV]$/ {print $3}' | sort)
if [ "$expected" = "$actual" ]; then ok "exports exactly exports.map ($(echo "$actual" | wc -l) symbols)"
else bad "exports differ: $(diff <(echo "$expected") <(echo "$actual") | grep '^[<>]' | tr '\n' ' ')"; fi

disasm() { objdump -d --no-show-raw-insn "$lib" | awk -v f="<$1>:" '$2==f {on=1; next} on && /^$/ {exit} on'; }
for fn in malloc free; do
    body=$(disasm "$fn")
    # An entry point that is a single tail jump (LTO kept the hak_* body apart): follow it.
    target=$(echo "$body" | head -1 | awk '$2=="jmp" {gsub(/[<>]/,"",$4); print $4}')
    [ -n "$target" ] && body=$(disasm "$target")
    if [ -z "$body" ]; then bad "$fn: not found in disassembly"; continue; fi
    # The fast path is everything before the first `ret`.
    fast=$(echo "$body" | awk '{print} /\tret/ {exit}')
    if echo "$fast" | grep -qE '\s(call|lock|xchg)'; then bad "$fn fast path has a call/lock: $(echo "$fast" | grep -E 'call|lock|xchg')"
    else ok "$fn fast path: no call/lock in the $(echo "$fast" | wc -l) instructions laid out before its first ret"; fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
