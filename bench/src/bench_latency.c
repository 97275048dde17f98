/*
 * bench_latency - per-operation malloc and free latency percentiles.
 *
 * Usage: bench_latency <iterations> <working_set> <seed> [min max]
 *
 * Workload: the random slot workload of bench_random_mixed (pick a random
 * slot of <working_set>; free it if occupied, else malloc a random size in
 * [min,max], default 16..1040, and write its first bytes).  A warm-up of
 * iterations/10 unrecorded steps comes first.  Then every malloc and every
 * free of <iterations> steps is timed individually with the cycle counter
 * (lfence; rdtsc around the call on x86-64, CLOCK_MONOTONIC elsewhere),
 * converted to ns with a calibration against CLOCK_MONOTONIC, and stored in
 * arrays that are mmap()ed up front (so recording does not use the
 * allocator under test).  Percentiles are nearest-rank.  The values include
 * the timer overhead (timer_ns, the median cost of an empty timed region),
 * which is the same for every allocator.
 *
 * Output:
 *   Latency malloc_p50_ns=<> malloc_p99_ns=<> malloc_p999_ns=<> malloc_max_ns=<> free_p50_ns=<> free_p99_ns=<> free_p999_ns=<> free_max_ns=<> mallocs=<n> frees=<n> timer_ns=<> peak_rss_kb=<kb>
 *   allocator=<path>
 */
#include "bench_common.h"

#include <sys/mman.h>

static inline uint64_t tick(void)
{
#if BENCH_HAVE_TSC
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
#else
    return now_ns();
#endif
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static double pct(uint32_t *v, size_t n, double p, double ns_per_tick)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1] * ns_per_tick;
}

static uint32_t *map_array(size_t n)
{
    void *p = mmap(NULL, n * sizeof(uint32_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED)
        die("mmap failed");
    memset(p, 0, n * sizeof(uint32_t)); /* fault in before timing */
    return p;
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 6) {
        fprintf(stderr, "usage: %s <iterations> <working_set> <seed> [min max]\n", argv[0]);
        return 2;
    }
    uint64_t iters = parse_ul(argv[1], "iterations");
    size_t ws = parse_ul(argv[2], "working_set");
    uint64_t seed = parse_ul(argv[3], "seed");
    size_t mn = 16, mx = 1040;
    if (argc == 6) {
        mn = parse_ul(argv[4], "min");
        mx = parse_ul(argv[5], "max");
    }
    if (ws == 0 || iters == 0 || mn == 0 || mx < mn) {
        fprintf(stderr, "invalid arguments\n");
        return 2;
    }
    double ns_per_tick = cycles_ns_per_tick(20);

    /* timer overhead: median of empty timed regions */
    uint32_t ov[1001];
    for (int i = 0; i < 1001; i++) {
        uint64_t a = tick();
        uint64_t b = tick();
        ov[i] = (uint32_t)(b - a);
    }
    qsort(ov, 1001, sizeof ov[0], cmp_u32);
    double timer_ns = ov[500] * ns_per_tick;

    uint32_t *lat_m = map_array(iters);
    uint32_t *lat_f = map_array(iters);
    size_t nm = 0, nf = 0;
    void **slots = mmap(NULL, ws * sizeof(void *), PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (slots == MAP_FAILED)
        die("mmap failed");
    rng_t r;
    rng_seed(&r, seed);

    uint64_t warm = iters / 10;
    for (uint64_t i = 0; i < warm + iters; i++) {
        int rec = i >= warm;
        size_t s = (size_t)rng_below(&r, ws);
        if (slots[s]) {
            void *p = slots[s];
            uint64_t a = tick();
            free(p);
            uint64_t b = tick();
            slots[s] = NULL;
            if (rec)
                lat_f[nf++] = (b - a) > UINT32_MAX ? UINT32_MAX : (uint32_t)(b - a);
        } else {
            size_t sz = (size_t)rng_range(&r, mn, mx);
            uint64_t a = tick();
            unsigned char *p = malloc(sz);
            uint64_t b = tick();
            if (!p)
                die("malloc returned NULL");
            if (rec)
                lat_m[nm++] = (b - a) > UINT32_MAX ? UINT32_MAX : (uint32_t)(b - a);
            p[0] = 1;
            p[sz - 1] = 2;
            slots[s] = p;
        }
    }
    long peak = peak_rss_kb();
    for (size_t s = 0; s < ws; s++)
        free(slots[s]);

    qsort(lat_m, nm, sizeof(uint32_t), cmp_u32);
    qsort(lat_f, nf, sizeof(uint32_t), cmp_u32);
    printf("Latency malloc_p50_ns=%.1f malloc_p99_ns=%.1f malloc_p999_ns=%.1f malloc_max_ns=%.0f"
           " free_p50_ns=%.1f free_p99_ns=%.1f free_p999_ns=%.1f free_max_ns=%.0f"
           " mallocs=%zu frees=%zu timer_ns=%.1f peak_rss_kb=%ld\n",
           pct(lat_m, nm, 50, ns_per_tick), pct(lat_m, nm, 99, ns_per_tick),
           pct(lat_m, nm, 99.9, ns_per_tick), nm ? lat_m[nm - 1] * ns_per_tick : 0.0,
           pct(lat_f, nf, 50, ns_per_tick), pct(lat_f, nf, 99, ns_per_tick),
           pct(lat_f, nf, 99.9, ns_per_tick), nf ? lat_f[nf - 1] * ns_per_tick : 0.0, nm, nf,
           timer_ns, peak);
    print_allocator();
    return 0;
}
