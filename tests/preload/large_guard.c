/*
 * large_guard.c - a freed large block is guarded: any access through the
 * stale pointer traps, and its old contents do not reach the next owner.
 *
 *  - malloc(8 MiB), fill, free: a read and a write through the old pointer
 *    (start, middle, last byte), each in a forked child, must die of
 *    SIGSEGV/SIGBUS. (The first large free of a process is always guarded;
 *    hakmem rate-limits the guard only for programs that free large blocks
 *    fast. glibc unmaps the block, with the same effect.)
 *  - malloc(8 MiB) again: if it is the same block, it must not hold the old
 *    bytes; it must be writable from end to end.
 *  - calloc(8 MiB) after that block was freed: all zero.
 * In checked mode (HAKMEM_CHECK=1) the freed block waits in the quarantine with
 * its inner pages PROT_NONE and the partial pages at both ends filled and
 * verified later (a write there is reported when the block leaves the
 * quarantine), so only the middle is required to trap.
 */
#include "check.h"

#include <signal.h>
#include <sys/wait.h>

#define MiB ((size_t)1 << 20)

/* 1 if touching p (a read, or a write if `write`) kills a forked child. */
static int child_traps(volatile unsigned char *p, int write) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (write)
            *p = 0x5a;
        else
            check_sink_ptr = (void *)(uintptr_t)*p;
        _exit(0);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) return 0;
    return WIFSIGNALED(status) && (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS);
}

int main(void) {
    check_allocator();
    size_t n = opaque_size(8 * MiB);
    unsigned char *p = malloc(n);
    CHECK(p != NULL, "malloc(8 MiB) returned NULL");
    if (!p) return check_finish("large_guard");
    memset(p, 0xab, n);
    free(p);
    const char *checked = getenv("HAKMEM_CHECK");
    int edges = !(checked && *checked && strcmp(checked, "0") != 0);
    size_t offsets[] = {n / 2, 0, n - 1};
    for (int i = 0; i < (edges ? 3 : 1); i++) {
        CHECK(child_traps(p + offsets[i], 0), "read at offset %zu of a freed 8 MiB block did not trap",
              offsets[i]);
        CHECK(child_traps(p + offsets[i], 1), "write at offset %zu of a freed 8 MiB block did not trap",
              offsets[i]);
    }

    unsigned char *q = malloc(n);
    CHECK(q != NULL, "second malloc(8 MiB) returned NULL");
    if (q) {
        if (q == p) {
            size_t old = 0;
            for (size_t i = 0; i < n; i += 4096) old += q[i] == 0xab;
            CHECK(old == 0, "the reused block still holds %zu pages of the freed one's bytes", old);
        }
        memset(q, 0x11, n);
        CHECK(q[0] == 0x11 && q[n - 1] == 0x11, "reused block not writable end to end");
        free(q);
    }

    unsigned char *z = calloc(1, n);
    CHECK(z != NULL, "calloc(8 MiB) returned NULL");
    if (z) {
        size_t nonzero = 0;
        for (size_t i = 0; i < n; i += 512) nonzero += z[i] != 0;
        nonzero += z[n - 1] != 0;
        CHECK(nonzero == 0, "calloc(8 MiB) after a freed, dirtied block: %zu non-zero samples", nonzero);
        free(z);
    }
    return check_finish("large_guard");
}
