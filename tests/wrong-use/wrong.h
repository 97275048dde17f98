/*
 * wrong.h - shared harness of the wrong-use corpus (the programs in tests/wrong-use).
 *
 * Every program commits exactly ONE heap misuse, then goes on the way an
 * attacker would, and finally prints exactly one line on stdout
 *
 *     VERDICT missed        the allocator let the misuse pass
 *     VERDICT mitigated     the program itself saw the misuse neutralised
 *                           (secret wiped, block not handed out twice, ...)
 *     VERDICT unsupported   the API needed for the misuse does not exist
 *
 * and exits 0. If the allocator stops the process first (abort, SIGSEGV,
 * SIGBUS, any fatal signal, non-zero exit), there is no VERDICT line and the
 * runner (run.sh) records `stopped` (`stopped+msg` when stderr has a line
 * containing "hakmem: error:").
 *
 * Other stdout lines start with "INFO " and are informational only. All
 * output goes through write(2) from stack buffers: no stdio buffer is
 * allocated (the heap may be corrupt) and nothing is lost when the process
 * dies. Programs are built with -O0 -fno-builtin; accesses to misused memory
 * go through volatile pointers so they cannot be optimised away.
 */
#ifndef HAKMEM_WRONG_USE_H
#define HAKMEM_WRONG_USE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <malloc.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define KiB ((size_t)1024)
#define MiB (1024 * KiB)

/* ---- output (no heap use) ---- */
static void wr_write(const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = write(1, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

__attribute__((format(printf, 1, 2))) static void wr_info(const char *fmt, ...) {
    char buf[512];
    int n = snprintf(buf, sizeof buf, "INFO ");
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0) m = 0;
    n += m;
    if (n > (int)sizeof buf - 2) n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    wr_write(buf, (size_t)n);
}

__attribute__((noreturn)) static void wr_verdict(const char *v) {
    char buf[64];
    int n = snprintf(buf, sizeof buf, "VERDICT %s\n", v);
    wr_write(buf, (size_t)n);
    exit(0);
}
#define MISSED() wr_verdict("missed")
#define MITIGATED() wr_verdict("mitigated")
#define UNSUPPORTED() wr_verdict("unsupported")

/* First call of every program: names the object that serves malloc, so the
 * runner can check the preload really took effect. */
static void wr_begin(void) {
    Dl_info d;
    void *fn = (void *)&malloc;
    const char *obj = (dladdr(fn, &d) && d.dli_fname) ? d.dli_fname : "?";
    wr_info("allocator %s", obj);
}

/* ---- defeating the optimiser ---- */
static void *volatile wr_sink_ptr;
static volatile uint64_t wr_sink64;

/* Launders a pointer / size through a volatile: the compiler knows nothing
 * about the result (no -Wfree-nonheap-object folding, no dead-store removal). */
static void *wr_opaque(void *p) {
    void *volatile v = p;
    return v;
}
static size_t wr_size(size_t n) {
    volatile size_t v = n;
    return v;
}

/* Byte-wise volatile store/load of len (<= 8) bytes at any alignment. */
static void wr_poke(void *addr, uint64_t v, size_t len) {
    volatile unsigned char *b = (volatile unsigned char *)addr;
    for (size_t i = 0; i < len; i++) b[i] = (unsigned char)(v >> (8 * i));
}
static uint64_t wr_peek(const void *addr, size_t len) {
    const volatile unsigned char *b = (const volatile unsigned char *)addr;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) v |= (uint64_t)b[i] << (8 * i);
    wr_sink64 = v;
    return v;
}

/* Secret pattern for read-after-free: word i of a block. */
static uint64_t wr_secret(size_t i) { return 0x5ec2e7d00d000000ull ^ (i * 0x9e3779b97f4a7c15ull); }

static void wr_fill_secret(void *p, size_t size) {
    volatile uint64_t *w = (volatile uint64_t *)p;
    for (size_t i = 0; i < size / 8; i++) w[i] = wr_secret(i);
}

/* Number of secret words still readable through p. Reads every word when
 * size <= 64 KiB, else the first word of every 4 KiB page and the last word. */
static size_t wr_secret_left(const void *p, size_t size) {
    const volatile uint64_t *w = (const volatile uint64_t *)p;
    size_t n = size / 8, step = size <= 64 * KiB ? 1 : 512, left = 0;
    for (size_t i = 0; i < n; i += step)
        if (w[i] == wr_secret(i)) left++;
    if (step > 1 && w[n - 1] == wr_secret(n - 1)) left++;
    return left;
}

/* ---- how the programs go on after the misuse ---- */
#define WR_MAX_BLOCKS 20000
static void *wr_blocks[WR_MAX_BLOCKS]; /* not on the heap: survives a corrupt heap */

/* Number of blocks of `size` that fit a virtual budget (min 4, max WR_MAX_BLOCKS). */
static size_t wr_budget(size_t size, size_t bytes) {
    size_t n = bytes / size;
    if (n < 4) n = 4;
    if (n > WR_MAX_BLOCKS) n = WR_MAX_BLOCKS;
    return n;
}

/* One round of wr_after_double_free: returns how often p was handed out
 * (stops at 2); *handed = number of blocks obtained. */
static size_t wr_df_round(void *p, size_t size, size_t count, size_t *handed, int round) {
    size_t seen = 0, first = 0;
    *handed = 0;
    for (size_t i = 0; i < count; i++) {
        void *q = malloc(wr_size(size));
        if (q == NULL) break;
        wr_blocks[i] = q;
        *handed = i + 1;
        *(volatile char *)q = 1;
        if (q == p) {
            if (++seen == 1) first = i;
            if (seen == 2) {
                wr_info("round %d: block handed out twice (allocations %zu and %zu)", round, first, i);
                return seen;
            }
        }
    }
    wr_info("round %d: block handed out %zu time(s) in %zu allocations", round, seen, *handed);
    return seen;
}

/*
 * After a double free of p (size bytes): malloc the same size up to `count`
 * times, keeping every block live, and watch for p.
 *   p handed out twice (two live owners of one block)      -> missed
 *   p never handed out (cannot tell what happened)          -> missed
 *   p handed out exactly once: free every block (a legit single free of p),
 *   allocate `count` blocks again; p twice -> missed, else -> mitigated
 *   (a copy of p lurking in a free list shows up in the second round).
 */
__attribute__((noreturn)) static void wr_after_double_free(void *p, size_t size, size_t count) {
    if (count > WR_MAX_BLOCKS) count = WR_MAX_BLOCKS;
    size_t handed;
    size_t seen = wr_df_round(p, size, count, &handed, 1);
    if (seen != 1) MISSED();
    for (size_t i = handed; i-- > 0;) free(wr_blocks[i]);
    seen = wr_df_round(p, size, count, &handed, 2);
    if (seen >= 2) MISSED();
    MITIGATED();
}

/*
 * Ordinary activity after an invalid free / overflow / write-after-free:
 * `rounds` times, malloc n blocks of `size` (kept live, first and last byte
 * written), then free them. Returns how many handed-out blocks started
 * inside [lo, hi) (e.g. the fake block an invalid free tried to inject).
 */
static size_t wr_churn(size_t size, size_t n, int rounds, const void *lo, const void *hi) {
    size_t inside = 0;
    if (n > WR_MAX_BLOCKS) n = WR_MAX_BLOCKS;
    for (int r = 0; r < rounds; r++) {
        for (size_t i = 0; i < n; i++) {
            char *q = (char *)malloc(wr_size(size));
            wr_blocks[i] = q;
            if (!q) continue;
            ((volatile char *)q)[0] = 1;
            ((volatile char *)q)[size - 1] = 2;
            if ((const char *)q >= (const char *)lo && (const char *)q < (const char *)hi) inside++;
        }
        for (size_t i = n; i-- > 0;) free(wr_blocks[i]);
    }
    return inside;
}

/*
 * After an invalid free / invalid realloc: allocate and free blocks of a few
 * sizes, then report missed (the program goes on normally). An INFO line
 * says whether a handed-out block started inside [lo, hi), i.e. whether the
 * memory the invalid free tried to inject was given back as a heap block.
 */
__attribute__((noreturn)) static void wr_after_invalid_free(const void *lo, const void *hi) {
    static const size_t sizes[] = {16, 32, 48, 64, 128, 256, 1024, 4096, 64 * 1024};
    size_t inside = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) inside += wr_churn(sizes[i], 16, 2, lo, hi);
    wr_info("blocks handed out inside the freed range: %zu", inside);
    MISSED();
}

/* Look-up of C23 functions glibc 2.36 lacks (free_sized, free_aligned_sized). */
static void *wr_dlsym(const char *name) { return dlsym(RTLD_DEFAULT, name); }

#endif
