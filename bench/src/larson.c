/*
 * larson - server-style allocation churn with thread hand-off
 * (after the workload described by Larson & Krishnan, "Memory Allocation
 * for Long-Running Server Applications", ISMM 1998; written from scratch).
 *
 * Usage: larson <seconds> <min> <max> <chunks_per_thread> <rounds> <seed> <threads>
 *
 * Definition used here
 * --------------------
 *  - There are <threads> "lanes".  Each lane owns an array of
 *    <chunks_per_thread> slots.  Before timing starts the main thread fills
 *    every slot with a block of random size in [min,max] (so even the very
 *    first frees of a worker are cross-thread frees).
 *  - A lane is served by a chain of worker threads ("generations").  One
 *    generation performs one ROUND = <rounds> passes x <chunks_per_thread>
 *    operations.  An OPERATION picks a random slot, frees the block in it
 *    and allocates a new block of random size in [min,max] into it, writing
 *    its first bytes (up to 16) and its last byte.
 *  - At the end of its round a generation hands the lane's array to a newly
 *    created thread and exits, so blocks allocated by one thread are freed
 *    by another.  It stops instead (and marks its lane finished) when the
 *    run is over.
 *  - <seconds> > 0: the main thread sleeps that long, then raises a stop
 *    flag; a generation checks the flag between passes and at the end of
 *    its round.  <seconds> = 0: every lane runs exactly one round and stops
 *    (deterministic amount of work; no dependence on a stop flag).
 *    Either way the decision "continue or finish" is taken by the running
 *    generation itself, and it always signals completion, so a generation
 *    that starts after the stop flag was raised cannot hang the benchmark
 *    (the classic program could).
 *  - Throughput = total operations completed by all generations / wall time
 *    from the start of the first generation until every lane has finished.
 *    One operation = one free + one malloc.
 *
 * Output:
 *   Throughput = <N> operations per second threads=<T> ops=<count> time=<s>s peak_rss_kb=<kb> generations=<g>
 *   allocator=<path>
 */
#include "bench_common.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct lane {
    void **slots;
    size_t nslots;
    rng_t rng;
    uint64_t ops;          /* operations completed in this lane */
    uint64_t generations;  /* threads that served this lane */
} lane_t;

static size_t g_min, g_max, g_passes;
static int g_one_round;                 /* seconds == 0 */
static atomic_int g_stop;
static pthread_mutex_t g_done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_done_cv = PTHREAD_COND_INITIALIZER;
static int g_done_lanes;
static atomic_int g_spawn_fail;

static inline void *alloc_block(rng_t *r)
{
    size_t sz = (size_t)rng_range(r, g_min, g_max);
    unsigned char *p = malloc(sz);
    if (!p)
        die("malloc returned NULL");
    size_t n = sz < 16 ? sz : 16;
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)i;
    p[sz - 1] = 0x5a;
    return p;
}

static void lane_finish(void)
{
    pthread_mutex_lock(&g_done_mu);
    g_done_lanes++;
    pthread_cond_broadcast(&g_done_cv);
    pthread_mutex_unlock(&g_done_mu);
}

static int spawn_generation(lane_t *lane);

static void *generation_main(void *arg)
{
    lane_t *lane = arg;
    lane->generations++;
    size_t n = lane->nslots;
    void **slots = lane->slots;
    rng_t *r = &lane->rng;
    uint64_t ops = 0;

    for (size_t pass = 0; pass < g_passes; pass++) {
        if (!g_one_round && atomic_load_explicit(&g_stop, memory_order_relaxed))
            break;
        for (size_t k = 0; k < n; k++) {
            size_t victim = (size_t)rng_below(r, n);
            free(slots[victim]);
            slots[victim] = alloc_block(r);
        }
        ops += n;
    }
    lane->ops += ops;

    if (g_one_round || atomic_load_explicit(&g_stop, memory_order_relaxed)) {
        lane_finish();
        return NULL;
    }
    if (spawn_generation(lane) != 0) {
        /* could not create a successor: finish this lane cleanly */
        atomic_store(&g_spawn_fail, 1);
        lane_finish();
    }
    return NULL;
}

static int spawn_generation(lane_t *lane)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    int rc = pthread_create(&th, &attr, generation_main, lane);
    pthread_attr_destroy(&attr);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr,
                "usage: %s <seconds> <min> <max> <chunks_per_thread> <rounds> <seed> <threads>\n"
                "  seconds=0: exactly one round (rounds x chunks_per_thread ops) per thread\n",
                argv[0]);
        return 2;
    }
    double seconds = parse_double(argv[1], "seconds");
    g_min = parse_ul(argv[2], "min");
    g_max = parse_ul(argv[3], "max");
    size_t chunks = parse_ul(argv[4], "chunks_per_thread");
    g_passes = parse_ul(argv[5], "rounds");
    uint64_t seed = parse_ul(argv[6], "seed");
    size_t threads = parse_ul(argv[7], "threads");
    if (g_min == 0 || g_max < g_min || chunks == 0 || g_passes == 0 || threads == 0 || seconds < 0) {
        fprintf(stderr, "invalid arguments (need 0 < min <= max, chunks, rounds, threads > 0)\n");
        return 2;
    }
    g_one_round = (seconds == 0);

    lane_t *lanes = calloc(threads, sizeof *lanes);
    if (!lanes)
        die("out of memory");
    for (size_t t = 0; t < threads; t++) {
        lanes[t].nslots = chunks;
        lanes[t].slots = malloc(chunks * sizeof(void *));
        if (!lanes[t].slots)
            die("out of memory");
        rng_seed(&lanes[t].rng, seed * 1000003ull + t);
        for (size_t i = 0; i < chunks; i++)
            lanes[t].slots[i] = alloc_block(&lanes[t].rng);
    }

    uint64_t t0 = now_ns();
    for (size_t t = 0; t < threads; t++) {
        if (spawn_generation(&lanes[t]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 3;
        }
    }
    if (!g_one_round) {
        uint64_t end = t0 + (uint64_t)(seconds * 1e9);
        for (;;) {
            uint64_t now = now_ns();
            if (now >= end)
                break;
            uint64_t left = end - now;
            struct timespec ts = { (time_t)(left / 1000000000ull), (long)(left % 1000000000ull) };
            nanosleep(&ts, NULL);
        }
        atomic_store(&g_stop, 1);
    }
    pthread_mutex_lock(&g_done_mu);
    while ((size_t)g_done_lanes < threads)
        pthread_cond_wait(&g_done_cv, &g_done_mu);
    pthread_mutex_unlock(&g_done_mu);
    uint64_t t1 = now_ns();

    uint64_t total = 0, gens = 0;
    for (size_t t = 0; t < threads; t++) {
        total += lanes[t].ops;
        gens += lanes[t].generations;
        for (size_t i = 0; i < lanes[t].nslots; i++)
            free(lanes[t].slots[i]);
        free(lanes[t].slots);
    }
    free(lanes);

    double secs = (double)(t1 - t0) * 1e-9;
    if (atomic_load(&g_spawn_fail))
        fprintf(stderr, "warning: pthread_create failed for some successor generations\n");
    printf("Throughput = %.0f operations per second threads=%zu ops=%" PRIu64
           " time=%.4fs peak_rss_kb=%ld generations=%" PRIu64 "\n",
           secs > 0 ? (double)total / secs : 0.0, threads, total, secs, peak_rss_kb(), gens);
    print_allocator();
    return 0;
}
