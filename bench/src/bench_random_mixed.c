/*
 * bench_random_mixed - single-threaded random malloc/free over a slot array.
 *
 * Usage: bench_random_mixed <iterations> <working_set> <seed> [min max]
 *
 * There are <working_set> slots, initially empty.  Each of <iterations>
 * steps picks a slot with the PRNG; if it holds a block, the block is freed,
 * otherwise a block of random size in [min,max] (default 16..1040) is
 * allocated into it and written (first 8 bytes, one byte per 64-byte line up
 * to 256 bytes, and the last byte).  One step = one operation (either a
 * malloc or a free).  Remaining blocks are freed after timing stops.
 *
 * Output:
 *   Throughput = <N> ops/s [iter=<i> ws=<w>] time=<s>s peak_rss_kb=<kb>
 *   allocator=<path>
 */
#include "bench_common.h"

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
    if (ws == 0 || mn == 0 || mx < mn) {
        fprintf(stderr, "invalid arguments\n");
        return 2;
    }
    void **slots = calloc(ws, sizeof(void *));
    if (!slots)
        die("out of memory");
    rng_t r;
    rng_seed(&r, seed);

    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < iters; i++) {
        size_t s = (size_t)rng_below(&r, ws);
        if (slots[s]) {
            free(slots[s]);
            slots[s] = NULL;
        } else {
            size_t sz = (size_t)rng_range(&r, mn, mx);
            unsigned char *p = malloc(sz);
            if (!p)
                die("malloc returned NULL");
            size_t head = sz < 8 ? sz : 8;
            memset(p, (int)(i & 0xff), head);
            for (size_t off = 64; off < sz && off < 256; off += 64)
                p[off] = 1;
            p[sz - 1] = 0xa5;
            slots[s] = p;
        }
    }
    uint64_t t1 = now_ns();
    long peak = peak_rss_kb();
    for (size_t s = 0; s < ws; s++)
        free(slots[s]);
    free(slots);

    double secs = (double)(t1 - t0) * 1e-9;
    printf("Throughput = %.0f ops/s [iter=%" PRIu64 " ws=%zu] time=%.4fs peak_rss_kb=%ld\n",
           secs > 0 ? (double)iters / secs : 0.0, iters, ws, secs, peak);
    print_allocator();
    return 0;
}
