/*
 * check.h - tiny shared harness for the hakmem black-box preload tests.
 *
 * Every test program is a single translation unit that includes this header.
 *   CHECK(cond, fmt, ...)  prints "FAIL file:line: message" when cond is false
 *                          and counts the failure (thread-safe).
 *   check_allocator()      asserts which allocator serves malloc: when env
 *                          EXPECT_LIB is set and non-empty, dladdr() of malloc
 *                          must resolve to a file whose path contains it, so a
 *                          run that silently fell back to glibc fails.
 *   check_finish(name)     prints a summary and returns the exit status
 *                          (0 only if no check failed).
 * Helpers: opaque sinks (keep the compiler from folding allocations away),
 * byte patterns, RSS/VM readings from /proc/self/statm, and
 * allocator_is_glibc() for the few documented places where glibc 2.36 itself
 * deviates from the rule we test (the runner validates the tests on glibc).
 */
#ifndef HAKMEM_TEST_CHECK_H
#define HAKMEM_TEST_CHECK_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <gnu/libc-version.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../statm.h"

static atomic_int check_failures;
static atomic_long check_count;

/* Stop printing after this many failures so a broken allocator does not
 * flood the log; they are still counted. */
#define CHECK_MAX_PRINT 40

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        atomic_fetch_add(&check_count, 1);                                     \
        if (!(cond)) {                                                         \
            int n_ = atomic_fetch_add(&check_failures, 1);                     \
            if (n_ < CHECK_MAX_PRINT) {                                        \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);           \
                fprintf(stderr, __VA_ARGS__);                                  \
                fputc('\n', stderr);                                           \
            } else if (n_ == CHECK_MAX_PRINT) {                                \
                fprintf(stderr, "(further failures not printed)\n");           \
            }                                                                  \
        }                                                                      \
    } while (0)

/* Opaque sink: the compiler cannot prove the pointer is unused. */
static void *volatile check_sink_ptr;
static inline void sink(void *p) { check_sink_ptr = p; }

/* Launder a size through a volatile so huge constants reach the allocator
 * at run time (no compile-time folding / warnings). */
static inline size_t opaque_size(size_t n) {
    volatile size_t v = n;
    return v;
}

static inline int is_aligned(const void *p, size_t a) {
    return ((uintptr_t)p & (a - 1)) == 0;
}

/* Byte pattern: depends on a seed and the offset. */
static inline unsigned char pat_byte(unsigned seed, size_t i) {
    return (unsigned char)((i * 131u + seed * 7u + (i >> 8) * 17u) ^ (seed >> 3));
}

static inline void pat_fill(void *p, size_t n, unsigned seed) {
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++) b[i] = pat_byte(seed, i);
}

/* Returns the first mismatching offset, or (size_t)-1 if all match. */
static inline size_t pat_check(const void *p, size_t n, unsigned seed) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != pat_byte(seed, i)) return i;
    return (size_t)-1;
}

/* Returns the first byte that is not c, or (size_t)-1. */
static inline size_t first_not(const void *p, size_t n, unsigned char c) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != c) return i;
    return (size_t)-1;
}


/* Path of the object that defines the given function address. */
static inline const char *object_of(void *fn) {
    Dl_info info;
    if (fn && dladdr(fn, &info) && info.dli_fname) return info.dli_fname;
    return "?";
}

static inline const char *expect_lib(void) {
    const char *e = getenv("EXPECT_LIB");
    return (e && *e) ? e : NULL;
}

/* True when malloc in this process is glibc's own. Used only to tolerate
 * documented glibc 2.36 deviations so the suite can be validated on glibc. */
static inline int allocator_is_glibc(void) {
    return expect_lib() == NULL && strstr(object_of((void *)malloc), "libc.so") != NULL;
}

/* Version of the running glibc (>= 2.38 rejects non-power-of-two
 * aligned_alloc alignments; 2.36 on Debian 12 does not). */
static inline int glibc_at_least(int maj, int min) {
    int a = 0, b = 0;
    sscanf(gnu_get_libc_version(), "%d.%d", &a, &b);
    return a > maj || (a == maj && b >= min);
}

static inline void check_symbols(const char *const *fns, size_t n) {
    const char *want = expect_lib();
    if (!want) return;
    for (size_t i = 0; i < n; i++) {
        void *f = dlsym(RTLD_DEFAULT, fns[i]);
        const char *o = object_of(f);
        CHECK(f && strstr(o, want) != NULL, "%s resolves to '%s', expected a path containing '%s'",
              fns[i], o, want);
    }
}

/* Every program calls this first: malloc/free must come from EXPECT_LIB. */
static inline void check_allocator(void) {
    const char *want = expect_lib();
    if (!want) return;
    const char *got = object_of((void *)malloc);
    CHECK(strstr(got, want) != NULL, "malloc is served by '%s', expected a path containing '%s'",
          got, want);
    static const char *const core[] = {"malloc", "free"};
    check_symbols(core, 2);
}

/* api_basic additionally checks that every public allocation entry point
 * is interposed (a missing one would call glibc on a foreign pointer). */
static inline void check_all_exports(void) {
    static const char *const fns[] = {"malloc", "free", "calloc", "realloc", "posix_memalign",
                                      "aligned_alloc", "memalign", "valloc", "pvalloc",
                                      "malloc_usable_size", "reallocarray"};
    check_symbols(fns, sizeof fns / sizeof fns[0]);
}

static inline int check_finish(const char *name) {
    int f = atomic_load(&check_failures);
    fprintf(stderr, "%s: %ld checks, %d failed\n", name, atomic_load(&check_count), f);
    return f ? 1 : 0;
}

#endif
