#!/usr/bin/env bash
# tests/programs/run.sh [LIB] - real programs under LD_PRELOAD=LIB.
#
#   tests/programs/run.sh              # LIB = $HAKMEM_LIB or build/lib/libhakmem.so
#   tests/programs/run.sh /path/x.so   # any allocator
#   tests/programs/run.sh ""           # no preload (glibc): validates the tests
#
# Each test runs real programs (python3, gcc, git, ls, sort, find) with
# LD_PRELOAD=LIB and HAKMEM_VERBOSE=1, asserts on their output (closed-form
# values, or byte-identical output of the same command run without preload),
# and, when LIB is hakmem, that the "hakmem: " start-up banner appeared on
# stderr (proof that hakmem served the program). Prints PASS/FAIL per test
# and "N passed, N failed"; exits non-zero if any failed.
# Logs: build/tests/programs/<test>.{out,err}
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/../lib.sh"
LOGS="$REPO/build/tests/programs"
mkdir -p "$LOGS"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/hakmem-programs.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export LC_ALL=C

fail_details() {
    local err="$LOGS/$1.err"
    if [ -s "$err" ]; then grep -v '^hakmem: ' "$err" | tail -n 8 | sed 's/^/    /'; fi
}

resolve_lib "$@"
# (pre CMD / ref CMD: tests/lib.sh)

# run_test NAME TIMEOUT FUNCTION: runs FUNCTION (stdout -> NAME.out,
# stderr -> NAME.err) with a timeout; the function returns 0 on success or
# prints a reason to fd 3 and returns non-zero.
run_test() {
    local name="$1" tmo="$2" fn="$3" rc reason
    local out="$LOGS/$name.out" err="$LOGS/$name.err" why="$WORK/$name.why"
    : >"$why"
    (
        export -f pre ref "$fn" 2>/dev/null
        timeout -k 5 "$tmo" bash -c "$fn" >"$out" 2>"$err" 3>"$why"
        exit $?
    ) 2>/dev/null
    rc=$?
    reason="$(head -c 300 "$why" | tr '\n' ' ')"
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        fail "$name" "timeout after ${tmo}s${reason:+; $reason}"
        return
    fi
    if [ $rc -ne 0 ]; then
        fail "$name" "${reason:-exit status $rc}"
        return
    fi
    if [ "$IS_HAKMEM" = 1 ] && ! grep -q '^hakmem: ' "$err"; then
        fail "$name" "no 'hakmem: ' banner on stderr: hakmem did not serve the program"
        return
    fi
    pass "$name"
}
export LIB WORK HERE LOGS

# ------------------------------------------------------------------ python
PY="$(ref python3 -c 'import sys; print(sys.executable)' 2>/dev/null)"
export PY
t_python() {
    [ -x "$PY" ] || { echo "python3 not found" >&3; return 1; }
    cd "$WORK" || return 1
    out="$(pre "$PY" "$HERE/py_workload.py")"
    rc=$?
    echo "$out"
    [ $rc -eq 0 ] || { echo "py_workload.py exit $rc: $(echo "$out" | tail -n 2)" >&3; return 1; }
    [ "$(echo "$out" | tail -n 1)" = "OK" ] || { echo "py_workload.py did not print OK" >&3; return 1; }
}
t_python_malloc() { PYTHONMALLOC=malloc t_python; }
export -f t_python

# --------------------------------------------------------------------- gcc
t_gcc() {
    d="$WORK/gcc"
    mkdir -p "$d" && cd "$d" || return 1
    cat >list.h <<'C'
#include <stddef.h>
typedef struct node { long v; char *name; struct node *next; } node;
node *list_build(long n);
node *list_sort(node *h);
long list_sum(const node *h);
int list_sorted(const node *h);
void list_free(node *h);
char *str_repeat(const char *s, int n);
size_t count_char(const char *s, char c);
C
    cat >list.c <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "list.h"
node *list_build(long n) {
    node *h = NULL;
    for (long i = 0; i < n; i++) {
        node *x = malloc(sizeof *x);
        x->v = (i * 7919) % n;
        x->name = malloc(32);
        snprintf(x->name, 32, "node-%ld", x->v);
        x->next = h;
        h = x;
    }
    return h;
}
static node *merge(node *a, node *b) {
    node head = {0}, *t = &head;
    while (a && b) {
        if (a->v <= b->v) { t->next = a; a = a->next; } else { t->next = b; b = b->next; }
        t = t->next;
    }
    t->next = a ? a : b;
    return head.next;
}
node *list_sort(node *h) {
    if (!h || !h->next) return h;
    node *slow = h, *fast = h->next;
    while (fast && fast->next) { slow = slow->next; fast = fast->next->next; }
    node *b = slow->next;
    slow->next = NULL;
    return merge(list_sort(h), list_sort(b));
}
long list_sum(const node *h) { long s = 0; for (; h; h = h->next) s += h->v; return s; }
int list_sorted(const node *h) {
    for (; h && h->next; h = h->next) {
        if (h->v > h->next->v) return 0;
        char want[32];
        snprintf(want, sizeof want, "node-%ld", h->v);
        if (strcmp(want, h->name)) return 0;
    }
    return 1;
}
void list_free(node *h) { while (h) { node *n = h->next; free(h->name); free(h); h = n; } }
C
    cat >strutil.c <<'C'
#include <stdlib.h>
#include <string.h>
#include "list.h"
char *str_repeat(const char *s, int n) {
    size_t l = strlen(s);
    char *r = NULL;
    size_t len = 0;
    for (int i = 0; i < n; i++) {           /* grow with realloc */
        r = realloc(r, len + l + 1);
        memcpy(r + len, s, l + 1);
        len += l;
    }
    return r;
}
size_t count_char(const char *s, char c) { size_t k = 0; for (; *s; s++) k += *s == c; return k; }
C
    cat >main.c <<'C'
#include <stdio.h>
#include <stdlib.h>
#include "list.h"
int main(void) {
    node *h = list_sort(list_build(100000));
    printf("sum=%ld sorted=%d\n", list_sum(h), list_sorted(h));
    list_free(h);
    char *s = str_repeat("abcab", 20000);
    printf("a=%zu c=%zu\n", count_char(s, 'a'), count_char(s, 'c'));
    free(s);
    return 0;
}
C
    pre gcc -O2 -g -Wall -Werror -c list.c -o list.o &&
        pre gcc -O2 -g -Wall -Werror -c strutil.c -o strutil.o &&
        pre gcc -O2 -g -Wall -Werror main.c list.o strutil.o -o prog ||
        { echo "gcc failed" >&3; return 1; }
    got="$(pre ./prog)" || { echo "compiled program failed" >&3; return 1; }
    want="$(printf 'sum=4999950000 sorted=1\na=40000 c=20000')"
    echo "$got"
    [ "$got" = "$want" ] || { echo "program output '$got' != '$want'" >&3; return 1; }
    # also a preprocessor-heavy compile of real headers
    printf '#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <pthread.h>\n#include <math.h>\nint main(void){printf("%%d\\n",(int)sqrt(144.0));return 0;}\n' >m.c
    pre gcc -O2 m.c -o m -lm || { echo "gcc m.c failed" >&3; return 1; }
    [ "$(pre ./m)" = "12" ] || { echo "m.c output wrong" >&3; return 1; }
}

# --------------------------------------------------------------------- git
t_git() {
    d="$WORK/git"
    mkdir -p "$d" && cd "$d" || return 1
    unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
    export HOME="$d" GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.invalid \
        GIT_COMMITTER_NAME=T GIT_COMMITTER_EMAIL=t@example.invalid
    g() { pre git "$@"; }
    g init -q -b main repo || { echo "git init failed" >&3; return 1; }
    cd repo || return 1
    for i in $(seq 1 20); do
        seq 1 $((i * 100)) >"file$i.txt"
        printf 'line %s\n' $(seq 1 $i) >>common.txt
        g add -A && g commit -q -m "commit $i" || { echo "commit $i failed" >&3; return 1; }
    done
    g checkout -q -b feature || return 1
    for i in 1 2 3; do
        echo "feature $i" >"feat$i.txt"
        g add feat$i.txt && g commit -q -m "feature $i" || return 1
    done
    g checkout -q main || return 1
    for i in 1 2; do
        echo "main $i" >"main$i.txt"
        g add main$i.txt && g commit -q -m "main $i" || return 1
    done
    g merge -q --no-edit feature || { echo "merge failed" >&3; return 1; }
    g branch other HEAD~3 || return 1
    g gc -q --aggressive || { echo "git gc failed" >&3; return 1; }
    n="$(g log --oneline | wc -l)"
    [ "$n" = 26 ] || { echo "git log --oneline | wc -l = $n, expected 26 (20+3+2+merge)" >&3; return 1; }
    g fsck --full --strict >fsck.out 2>&1 || { echo "git fsck failed: $(head -c 200 fsck.out)" >&3; return 1; }
    [ -f feat3.txt ] && [ -f main2.txt ] || { echo "merge result missing files" >&3; return 1; }
    [ "$(g show HEAD:file20.txt | wc -l)" = 2000 ] || { echo "git show content wrong" >&3; return 1; }
    [ "$(g rev-list --count feature)" = 23 ] || { echo "feature branch count wrong" >&3; return 1; }
    [ "$(g diff --stat main~1 main | tail -n 1 | tr -s ' ')" = " 3 files changed, 3 insertions(+)" ] ||
        { echo "git diff --stat unexpected: $(g diff --stat main~1 main | tail -n 1)" >&3; return 1; }
    [ "$(g branch --list | wc -l)" = 3 ] || { echo "branch count wrong" >&3; return 1; }
    g log --oneline
}

# ------------------------------------------------- coreutils vs reference
TREE="${TREE:-/usr/include}"
export TREE
t_ls() {
    ref ls -laR --time-style=full-iso "$TREE" >"$WORK/ls.ref" 2>/dev/null
    pre ls -laR --time-style=full-iso "$TREE" >"$WORK/ls.pre" || { echo "ls failed" >&3; return 1; }
    [ -s "$WORK/ls.ref" ] || { echo "reference ls produced nothing" >&3; return 1; }
    cmp -s "$WORK/ls.ref" "$WORK/ls.pre" ||
        { echo "ls -laR output differs from reference: $(diff "$WORK/ls.ref" "$WORK/ls.pre" | head -n 3)" >&3; return 1; }
    wc -l <"$WORK/ls.pre"
}
t_sort() {
    # ~20 MB of header text: sort with a small buffer (temp files + merge)
    # and 2 threads, plus numeric/unique variants
    find "$TREE" -type f -name '*.h' | LC_ALL=C ref sort | head -n 2500 | xargs cat >"$WORK/sort.in" 2>/dev/null
    [ -s "$WORK/sort.in" ] || { echo "no sort input" >&3; return 1; }
    for opts in "-S 8M --parallel=2" "-u" "-n -k2" "-r -f"; do
        # shellcheck disable=SC2086
        r="$(ref sort $opts -T "$WORK" "$WORK/sort.in" | md5sum)"
        # shellcheck disable=SC2086
        p="$(pre sort $opts -T "$WORK" "$WORK/sort.in" | md5sum)"
        [ "$r" = "$p" ] || { echo "sort $opts output differs from reference" >&3; return 1; }
    done
    wc -c <"$WORK/sort.in"
}
t_find() {
    ref find "$TREE" -printf '%p %s %m %y\n' >"$WORK/find.ref" 2>/dev/null
    pre find "$TREE" -printf '%p %s %m %y\n' >"$WORK/find.pre" || { echo "find failed" >&3; return 1; }
    cmp -s "$WORK/find.ref" "$WORK/find.pre" || { echo "find output differs from reference" >&3; return 1; }
    r="$(ref find "$TREE" -name '*.h' -newer "$TREE/stdio.h" -size +2k | ref sort | md5sum)"
    p="$(pre find "$TREE" -name '*.h' -newer "$TREE/stdio.h" -size +2k | pre sort | md5sum)"
    [ "$r" = "$p" ] || { echo "find with predicates differs from reference" >&3; return 1; }
    wc -l <"$WORK/find.pre"
}

for f in t_python_malloc t_gcc t_git t_ls t_sort t_find; do export -f "$f"; done
export -f t_python

run_test python_workload 180 t_python
run_test python_workload_pymalloc_off 180 t_python_malloc
run_test gcc_multifile 180 t_gcc
run_test git_workflow 180 t_git
run_test ls_laR 120 t_ls
run_test sort_compare 180 t_sort
run_test find_compare 120 t_find
finish
