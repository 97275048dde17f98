/*
 * bench_mid_large_mt - multi-threaded mid/large blocks (8 KiB .. 1 MiB).
 *
 * Usage: bench_mid_large_mt <threads> <iterations> <working_set> [seed]
 *
 * Each of <threads> threads owns <working_set> slots, initially empty, and
 * performs <iterations> steps: pick a random slot; free its block if it has
 * one; allocate a new block into it with a size drawn log-uniformly from
 * [8 KiB, 1 MiB] (power-of-two class 2^13..2^19 chosen uniformly, then a
 * uniform size inside [2^k, 2^(k+1)]), and touch every 4 KiB page of it
 * (one write per page, so page faults and returned-then-refaulted memory
 * are part of the cost).  One step = one operation (a malloc, plus a free
 * when the slot was occupied).
 *
 * Output:
 *   Throughput = <N> ops/s threads=<T> iter=<i> ws=<w> time=<s>s peak_rss_kb=<kb>
 *   allocator=<path>
 */
#include "bench_common.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

typedef struct {
    uint64_t iters;
    size_t ws;
    uint64_t seed;
    pthread_t th;
} worker_t;

static atomic_int g_go;

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    rng_t r;
    rng_seed(&r, w->seed);
    void **slots = calloc(w->ws, sizeof(void *));
    if (!slots)
        die("out of memory");
    while (!atomic_load_explicit(&g_go, memory_order_acquire))
        sched_yield();
    for (uint64_t i = 0; i < w->iters; i++) {
        size_t s = (size_t)rng_below(&r, w->ws);
        free(slots[s]);
        unsigned k = 13 + (unsigned)rng_below(&r, 7); /* 2^13 .. 2^19 */
        size_t lo = (size_t)1 << k;
        size_t sz = (size_t)rng_range(&r, lo, 2 * lo);
        unsigned char *p = malloc(sz);
        if (!p)
            die("malloc returned NULL");
        for (size_t off = 0; off < sz; off += 4096)
            p[off] = (unsigned char)i;
        p[sz - 1] = 1;
        slots[s] = p;
    }
    for (size_t s = 0; s < w->ws; s++)
        free(slots[s]);
    free(slots);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s <threads> <iterations> <working_set> [seed]\n", argv[0]);
        return 2;
    }
    size_t threads = parse_ul(argv[1], "threads");
    uint64_t iters = parse_ul(argv[2], "iterations");
    size_t ws = parse_ul(argv[3], "working_set");
    uint64_t seed = argc == 5 ? parse_ul(argv[4], "seed") : 42;
    if (threads == 0 || ws == 0) {
        fprintf(stderr, "invalid arguments\n");
        return 2;
    }
    worker_t *w = calloc(threads, sizeof *w);
    if (!w)
        die("out of memory");
    for (size_t t = 0; t < threads; t++) {
        w[t].iters = iters;
        w[t].ws = ws;
        w[t].seed = seed * 1000003ull + t;
        if (pthread_create(&w[t].th, NULL, worker_main, &w[t]) != 0)
            die("pthread_create failed");
    }
    uint64_t t0 = now_ns();
    atomic_store_explicit(&g_go, 1, memory_order_release);
    for (size_t t = 0; t < threads; t++)
        pthread_join(w[t].th, NULL);
    uint64_t t1 = now_ns();
    free(w);
    double secs = (double)(t1 - t0) * 1e-9;
    uint64_t total = iters * threads;
    printf("Throughput = %.0f ops/s threads=%zu iter=%" PRIu64 " ws=%zu time=%.4fs peak_rss_kb=%ld\n",
           secs > 0 ? (double)total / secs : 0.0, threads, iters, ws, secs, peak_rss_kb());
    print_allocator();
    return 0;
}
