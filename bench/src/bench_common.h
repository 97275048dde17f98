/*
 * bench_common.h - shared helpers for the hakmem benchmark programs.
 *
 *   - monotonic timing (now_ns, now_sec)
 *   - a seeded PRNG: splitmix64 for seeding, xoshiro256** for the stream,
 *     unbiased bounded draws via 128-bit multiply
 *   - memory: peak RSS (VmHWM from /proc/self/status), current RSS
 *     (/proc/self/statm)
 *   - allocator identification: dladdr() on the malloc symbol the program
 *     actually calls, printed as "allocator=<path>" so the harness can check
 *     that a run really used the allocator it names (glibc -> libc.so.6).
 *   - an opaque sink so the compiler cannot elide malloc/free pairs
 *   - cycle counter (rdtsc) calibrated against CLOCK_MONOTONIC
 *
 * Header-only: every function is static.  C11 + _GNU_SOURCE.
 */
#ifndef HAKMEM_BENCH_COMMON_H
#define HAKMEM_BENCH_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* timing                                                              */
/* ------------------------------------------------------------------ */

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline double now_sec(void) { return (double)now_ns() * 1e-9; }

static inline void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* ------------------------------------------------------------------ */
/* PRNG: splitmix64 (seeding) + xoshiro256** (stream)                   */
/* ------------------------------------------------------------------ */

static inline uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct {
    uint64_t s[4];
} rng_t;

static inline void rng_seed(rng_t *r, uint64_t seed)
{
    uint64_t sm = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&sm);
}

static inline uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* uniform in [0, n) (n > 0); multiply-shift, bias negligible for n << 2^64 */
static inline uint64_t rng_below(rng_t *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* uniform in [lo, hi] inclusive */
static inline uint64_t rng_range(rng_t *r, uint64_t lo, uint64_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + rng_below(r, hi - lo + 1);
}

/* uniform double in [0, 1) */
static inline double rng_unit(rng_t *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

/* ------------------------------------------------------------------ */
/* memory usage                                                        */
/* ------------------------------------------------------------------ */

/* read a "Key:   123 kB" line from /proc/self/status; -1 if absent */
__attribute__((unused)) static long proc_status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    size_t klen = strlen(key);
    long val = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            val = strtol(line + klen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return val;
}

/* peak resident set size in KiB (VmHWM) */
static inline long peak_rss_kb(void) { return proc_status_kb("VmHWM"); }

/* current resident set size in KiB (/proc/self/statm, 2nd field, pages) */
__attribute__((unused)) static long cur_rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    long size = 0, resident = 0;
    int n = fscanf(f, "%ld %ld", &size, &resident);
    fclose(f);
    if (n != 2)
        return -1;
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* ------------------------------------------------------------------ */
/* allocator identification                                            */
/* ------------------------------------------------------------------ */

/*
 * Return the path of the shared object that provides the malloc this
 * program calls.  The benchmarks are built as PIE, so taking the address of
 * malloc yields the resolved definition (LD_PRELOADed library, or libc.so.6),
 * not a PLT stub.  As a safety net, if dladdr names the main executable we
 * fall back to the global-scope lookup dlsym(RTLD_DEFAULT, "malloc").
 */
__attribute__((unused)) static const char *allocator_path(void)
{
    static char path[4096];
    Dl_info info;
    void *addr = (void *)malloc;
    memset(&info, 0, sizeof info);
    if (dladdr(addr, &info) && info.dli_fname && info.dli_fname[0]) {
        snprintf(path, sizeof path, "%s", info.dli_fname);
        /* main program has an empty name or the exe path */
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = 0;
            if (strcmp(exe, path) != 0)
                return path;
        } else {
            return path;
        }
    }
    void *sym = dlsym(RTLD_DEFAULT, "malloc");
    memset(&info, 0, sizeof info);
    if (sym && dladdr(sym, &info) && info.dli_fname && info.dli_fname[0]) {
        snprintf(path, sizeof path, "%s", info.dli_fname);
        return path;
    }
    return "unknown";
}

/* print the allocator= line (every benchmark prints exactly one) */
__attribute__((unused)) static void print_allocator(void)
{
    printf("allocator=%s\n", allocator_path());
    fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* misc                                                                */
/* ------------------------------------------------------------------ */

/* opaque sink: the compiler must assume p escapes and memory is read */
static inline void sink_ptr(void *p) { __asm__ volatile("" : : "r"(p) : "memory"); }

static inline unsigned long parse_ul(const char *s, const char *what)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || !end || end == s || *end) {
        fprintf(stderr, "invalid %s: '%s'\n", what, s);
        exit(2);
    }
    return (unsigned long)v;
}

static inline double parse_double(const char *s, const char *what)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || !end || end == s || *end) {
        fprintf(stderr, "invalid %s: '%s'\n", what, s);
        exit(2);
    }
    return v;
}

static inline void die(const char *msg)
{
    fprintf(stderr, "fatal: %s\n", msg);
    fflush(stderr);
    exit(3);
}

/* ------------------------------------------------------------------ */
/* cycle counter                                                       */
/* ------------------------------------------------------------------ */

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static inline uint64_t cycles_now(void) { return __rdtsc(); }
#define BENCH_HAVE_TSC 1
#else
static inline uint64_t cycles_now(void) { return now_ns(); }
#define BENCH_HAVE_TSC 0
#endif

/* nanoseconds per cycles_now() tick, measured over ~ms milliseconds */
__attribute__((unused)) static double cycles_ns_per_tick(unsigned ms)
{
#if BENCH_HAVE_TSC
    uint64_t t0 = now_ns(), c0 = cycles_now();
    uint64_t t1, c1;
    do {
        t1 = now_ns();
        c1 = cycles_now();
    } while (t1 - t0 < (uint64_t)ms * 1000000ull);
    if (c1 <= c0)
        return 1.0;
    return (double)(t1 - t0) / (double)(c1 - c0);
#else
    (void)ms;
    return 1.0;
#endif
}

#endif /* HAKMEM_BENCH_COMMON_H */
