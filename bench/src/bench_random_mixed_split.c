/*
 * bench_random_mixed_split - bench_random_mixed's time split into the
 * allocator's share and the program's.
 *
 * Usage: bench_random_mixed_split <iterations> <working_set> <seed> <min> <max>
 *
 * The steps of bench_random_mixed (same PRNG, slots, sizes and writes; the
 * loop below must stay the same as that program's), run twice in one process:
 * first timed with the allocator, recording every address malloc returns,
 * then again with those addresses and no allocator calls (a free only empties
 * its slot).  The replay writes the same bytes to the same addresses in the
 * same order, so the difference of the two times is what the malloc and free
 * calls cost, cache misses they cause included, with the allocator's memory
 * layout held equal; the replay's time is what that layout costs the program.
 * The replay writes into freed blocks, so the process ends without freeing.
 * peak_rss_kb includes the address trace (8 bytes per step).  bench/split.py
 * runs it for every allocator.
 *
 * Output:
 *   Throughput = <N> ops/s [iter=<i> ws=<w>] time=<s>s peak_rss_kb=<kb>
 *     replay_time=<s>s allocator_time=<s>s replay_minflt=<n>   (one line)
 *   allocator=<path>
 */
#include "bench_common.h"
#include <sys/resource.h>

/* The program's writes into a block it was given at step i (as bench_random_mixed's). */
static inline __attribute__((always_inline)) void write_block(unsigned char *p, size_t sz, uint64_t i)
{
    size_t head = sz < 8 ? sz : 8;
    memset(p, (int)(i & 0xff), head);
    for (size_t off = 64; off < sz && off < 256; off += 64)
        p[off] = 1;
    p[sz - 1] = 0xa5;
}

/* Both passes, the report, and _exit (the heap is not fit to free from after the replay). */
static __attribute__((noreturn)) void split_run(uint64_t iters, size_t ws, uint64_t seed, size_t mn, size_t mx)
{
    /* The replay corrupts the heap (glibc's, for one): stdout must not need malloc. */
    static char out_buf[4096];
    setvbuf(stdout, out_buf, _IOFBF, sizeof(out_buf));
    void **slots = calloc(ws, sizeof(void *));
    unsigned char **trace = malloc(iters * sizeof(*trace)); /* at most one malloc per step */
    if (!slots || !trace)
        die("out of memory");
    memset(trace, 0, iters * sizeof(*trace));
    rng_t r;
    rng_seed(&r, seed);
    uint64_t next = 0;

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
            trace[next++] = p;
            write_block(p, sz, i);
            slots[s] = p;
        }
    }
    uint64_t t1 = now_ns();
    long peak = peak_rss_kb();

    memset(slots, 0, ws * sizeof(void *));
    rng_seed(&r, seed);
    next = 0;
    struct rusage u0, u1;
    getrusage(RUSAGE_SELF, &u0);
    uint64_t t2 = now_ns();
    for (uint64_t i = 0; i < iters; i++) {
        size_t s = (size_t)rng_below(&r, ws);
        if (slots[s]) {
            slots[s] = NULL;
        } else {
            size_t sz = (size_t)rng_range(&r, mn, mx);
            unsigned char *p = trace[next++];
            write_block(p, sz, i);
            slots[s] = p;
        }
    }
    uint64_t t3 = now_ns();
    getrusage(RUSAGE_SELF, &u1);

    double secs = (double)(t1 - t0) * 1e-9, replay = (double)(t3 - t2) * 1e-9;
    printf("Throughput = %.0f ops/s [iter=%" PRIu64 " ws=%zu] time=%.4fs peak_rss_kb=%ld "
           "replay_time=%.4fs allocator_time=%.4fs replay_minflt=%ld\n",
           secs > 0 ? (double)iters / secs : 0.0, iters, ws, secs, peak, replay, secs - replay,
           u1.ru_minflt - u0.ru_minflt);
    print_allocator();
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s <iterations> <working_set> <seed> <min> <max>\n", argv[0]);
        return 2;
    }
    uint64_t iters = parse_ul(argv[1], "iterations");
    size_t ws = parse_ul(argv[2], "working_set");
    uint64_t seed = parse_ul(argv[3], "seed");
    size_t mn = parse_ul(argv[4], "min"), mx = parse_ul(argv[5], "max");
    if (iters == 0 || ws == 0 || mn == 0 || mx < mn) {
        fprintf(stderr, "invalid arguments\n");
        return 2;
    }
    split_run(iters, ws, seed, mn, mx);
}
