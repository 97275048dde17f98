/*
 * bench_remote_free - cross-thread ("remote") frees.
 *
 * Usage: bench_remote_free <mode> <threads> <iterations> <percent> <min> <max>
 *
 *   mode pc   : producer/consumer.  threads/2 pairs (at least one pair, so
 *               threads=1 runs 1 producer + 1 consumer).  Producer i
 *               allocates <iterations> blocks of random size in [min,max];
 *               <percent>% of them are handed to consumer i, which frees
 *               them; the others go to a small local FIFO (256 entries) and
 *               are freed by the producer itself when they fall out of it.
 *   mode ring : <threads> threads in a ring.  Each allocates <iterations>
 *               blocks; <percent>% of them are handed to the next thread
 *               ((i+1) mod threads), which frees them; the rest go through
 *               the local FIFO as above.  Every thread both allocates and
 *               frees blocks of its neighbour.
 *
 * Hand-off: blocks travel in batches of 64 pointers through bounded
 * single-producer/single-consumer lock-free rings (64 batches each, C11
 * atomics, no allocation).  A thread that has to wait (ring full, or
 * nothing to free yet) spins briefly, then sleeps on its own condition
 * variable until a neighbour publishes or consumes a batch (a waker only
 * touches the mutex when the flag "sleeping" is set, so the fast path stays
 * lock-free).  Sleeping instead of yield-spinning keeps the result sane under
 * oversubscription (2 x nproc threads).  In ring mode a thread waiting to
 * push also frees what arrives on its incoming ring, so the cycle cannot
 * deadlock.
 *
 * One operation = one malloc plus its (local or remote) free.
 * Throughput = total mallocs / wall time (until every block is freed).
 *
 * Output:
 *   Throughput = <N> ops/s mode=<m> threads=<T> ops=<n> remote=<r> time=<s>s peak_rss_kb=<kb>
 *                inflight_avg=<blocks> inflight_max=<blocks>
 *   allocator=<path>
 *
 * inflight_*: blocks handed off and not yet taken by their consumer, sampled at
 * every publish (whole batches: the rings' fill level times 64), averaged and
 * maximised over all rings.  The peak RSS of this benchmark follows it: the
 * faster an allocator's mallocs run against its remote frees, the fuller the
 * rings (at most 64 x 64 blocks each) and the more memory is live.
 */
#include "bench_common.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define BATCH 64
#define RING_SLOTS 64 /* power of two */
#define LOCAL_FIFO 256

typedef struct {
    unsigned n;
    void *ptr[BATCH];
} batch_t;

struct worker;

typedef struct {
    _Alignas(64) atomic_size_t head;  /* next slot to publish (producer) */
    _Alignas(64) atomic_size_t tail;  /* next slot to consume (consumer) */
    _Alignas(64) atomic_int closed;   /* producer finished */
    struct worker *producer, *consumer;
    batch_t slots[RING_SLOTS];
} ring_t;

typedef struct worker {
    _Alignas(64) atomic_int sleeping;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int id;
    ring_t *out;       /* ring we push remote blocks to (NULL: none) */
    ring_t *in;        /* ring we drain (NULL: none) */
    uint64_t iters;    /* blocks to allocate (0 for a pure consumer) */
    uint64_t seed;
    uint64_t remote;   /* blocks handed off */
    uint64_t freed_in; /* blocks received and freed */
    uint64_t fill_sum, fill_n, fill_max; /* out ring's fill level at each publish */
    pthread_t th;
} worker_t;

static size_t g_min, g_max;
static unsigned g_percent;
static atomic_int g_go;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* wake worker w if it sleeps (called after publishing / consuming) */
static void wake(worker_t *w)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (w && atomic_load_explicit(&w->sleeping, memory_order_relaxed)) {
        pthread_mutex_lock(&w->mu);
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
}

static inline int ring_has_data(ring_t *r)
{
    return r && atomic_load_explicit(&r->head, memory_order_acquire) !=
                    atomic_load_explicit(&r->tail, memory_order_relaxed);
}

static inline int ring_has_space(ring_t *r)
{
    return atomic_load_explicit(&r->head, memory_order_relaxed) -
               atomic_load_explicit(&r->tail, memory_order_acquire) < RING_SLOTS;
}

/* something for w to do: incoming data, incoming closed, or (if want_space)
 * room in the outgoing ring */
static int ready(worker_t *w, int want_space)
{
    if (ring_has_data(w->in))
        return 1;
    if (want_space)
        return ring_has_space(w->out);
    return w->in && atomic_load_explicit(&w->in->closed, memory_order_acquire);
}

/* spin a little, then sleep until ready() */
static void wait_ready(worker_t *w, int want_space)
{
    for (int i = 0; i < 200; i++) {
        if (ready(w, want_space))
            return;
        cpu_relax();
    }
    pthread_mutex_lock(&w->mu);
    atomic_store_explicit(&w->sleeping, 1, memory_order_seq_cst);
    atomic_thread_fence(memory_order_seq_cst); /* pairs with the fence in wake() */
    while (!ready(w, want_space)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 2000000; /* safety net only */
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    }
    atomic_store_explicit(&w->sleeping, 0, memory_order_relaxed);
    pthread_mutex_unlock(&w->mu);
}

/* free everything currently available in ring `in`; returns #batches */
static size_t drain(worker_t *w)
{
    ring_t *in = w->in;
    if (!in)
        return 0;
    size_t t = atomic_load_explicit(&in->tail, memory_order_relaxed);
    size_t h = atomic_load_explicit(&in->head, memory_order_acquire);
    size_t nb = h - t;
    for (; t != h; t++) {
        batch_t *b = &in->slots[t & (RING_SLOTS - 1)];
        for (unsigned i = 0; i < b->n; i++)
            free(b->ptr[i]);
        w->freed_in += b->n;
        atomic_store_explicit(&in->tail, t + 1, memory_order_release);
    }
    if (nb)
        wake(in->producer);
    return nb;
}

static void push(worker_t *w, batch_t *b)
{
    ring_t *out = w->out;
    size_t h = atomic_load_explicit(&out->head, memory_order_relaxed);
    while (!ring_has_space(out)) {
        if (drain(w))
            continue;
        wait_ready(w, 1);
    }
    /* fill level once this batch is in (the tail line was just read for the space test) */
    uint64_t fill = h + 1 - atomic_load_explicit(&out->tail, memory_order_relaxed);
    w->fill_sum += fill;
    w->fill_n++;
    if (fill > w->fill_max)
        w->fill_max = fill;
    batch_t *dst = &out->slots[h & (RING_SLOTS - 1)];
    dst->n = b->n;
    memcpy(dst->ptr, b->ptr, b->n * sizeof(void *));
    atomic_store_explicit(&out->head, h + 1, memory_order_release);
    wake(out->consumer);
    b->n = 0;
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    rng_t r;
    rng_seed(&r, w->seed);
    void *fifo[LOCAL_FIFO];
    size_t fifo_n = 0, fifo_pos = 0;
    batch_t cur;
    cur.n = 0;
    /* percent as a threshold on a 16-bit draw */
    uint64_t thresh = (uint64_t)g_percent * 65536 / 100;

    while (!atomic_load_explicit(&g_go, memory_order_acquire))
        sched_yield();

    for (uint64_t i = 0; i < w->iters; i++) {
        uint64_t x = rng_next(&r);
        size_t sz = g_min + (size_t)(((x >> 16) & 0xffffffffu) % (g_max - g_min + 1));
        unsigned char *p = malloc(sz);
        if (!p)
            die("malloc returned NULL");
        p[0] = (unsigned char)i;
        p[sz - 1] = (unsigned char)w->id;
        if ((x & 0xffff) < thresh) {
            cur.ptr[cur.n++] = p;
            w->remote++;
            if (cur.n == BATCH) {
                push(w, &cur);
                if (w->in != NULL)
                    drain(w);
            }
        } else {
            if (fifo_n == LOCAL_FIFO) {
                free(fifo[fifo_pos]);
                fifo[fifo_pos] = p;
                fifo_pos = (fifo_pos + 1) % LOCAL_FIFO;
            } else {
                fifo[fifo_n++] = p;
            }
        }
    }
    if (w->out) {
        if (cur.n)
            push(w, &cur);
        atomic_store_explicit(&w->out->closed, 1, memory_order_release);
        wake(w->out->consumer);
    }
    for (size_t i = 0; i < fifo_n; i++)
        free(fifo[i]);

    /* drain incoming until its producer is done and the ring is empty */
    if (w->in) {
        for (;;) {
            int closed = atomic_load_explicit(&w->in->closed, memory_order_acquire);
            if (drain(w))
                continue;
            if (closed) {
                drain(w); /* anything published before the close */
                break;
            }
            wait_ready(w, 0);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s <pc|ring> <threads> <iterations> <percent> <min> <max>\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    int pc;
    if (strcmp(mode, "pc") == 0)
        pc = 1;
    else if (strcmp(mode, "ring") == 0)
        pc = 0;
    else {
        fprintf(stderr, "mode must be pc or ring\n");
        return 2;
    }
    size_t threads = parse_ul(argv[2], "threads");
    uint64_t iters = parse_ul(argv[3], "iterations");
    g_percent = (unsigned)parse_ul(argv[4], "percent");
    g_min = parse_ul(argv[5], "min");
    g_max = parse_ul(argv[6], "max");
    if (threads == 0 || g_percent > 100 || g_min == 0 || g_max < g_min) {
        fprintf(stderr, "invalid arguments\n");
        return 2;
    }

    size_t nworkers, nrings;
    if (pc) {
        size_t pairs = threads / 2 ? threads / 2 : 1;
        nworkers = 2 * pairs;
        nrings = pairs;
    } else {
        nworkers = threads;
        nrings = threads;
    }
    ring_t *rings = aligned_alloc(64, nrings * sizeof(ring_t));
    worker_t *ws = calloc(nworkers, sizeof(worker_t));
    if (!rings || !ws)
        die("out of memory");
    memset(rings, 0, nrings * sizeof(ring_t));
    for (size_t i = 0; i < nrings; i++) {
        atomic_init(&rings[i].head, 0);
        atomic_init(&rings[i].tail, 0);
        atomic_init(&rings[i].closed, 0);
    }
    uint64_t total_allocs = 0;
    for (size_t i = 0; i < nworkers; i++) {
        worker_t *w = &ws[i];
        w->id = (int)i;
        w->seed = 0x1234567ull + i * 7919;
        pthread_mutex_init(&w->mu, NULL);
        pthread_cond_init(&w->cv, NULL);
        atomic_init(&w->sleeping, 0);
        if (pc) {
            size_t pair = i / 2;
            if (i % 2 == 0) { /* producer */
                w->out = &rings[pair];
                w->iters = iters;
            } else {          /* consumer */
                w->in = &rings[pair];
                w->iters = 0;
            }
        } else {
            w->out = &rings[i];
            w->in = &rings[(i + nworkers - 1) % nworkers];
            w->iters = iters;
        }
        total_allocs += w->iters;
    }
    for (size_t i = 0; i < nworkers; i++) {
        if (ws[i].out)
            ws[i].out->producer = &ws[i];
        if (ws[i].in)
            ws[i].in->consumer = &ws[i];
    }
    for (size_t i = 0; i < nworkers; i++)
        if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]) != 0)
            die("pthread_create failed");
    uint64_t t0 = now_ns();
    atomic_store_explicit(&g_go, 1, memory_order_release);
    for (size_t i = 0; i < nworkers; i++)
        pthread_join(ws[i].th, NULL);
    uint64_t t1 = now_ns();

    uint64_t remote = 0, freed_in = 0, fill_sum = 0, fill_n = 0, fill_max = 0;
    for (size_t i = 0; i < nworkers; i++) {
        remote += ws[i].remote;
        freed_in += ws[i].freed_in;
        fill_sum += ws[i].fill_sum;
        fill_n += ws[i].fill_n;
        if (ws[i].fill_max > fill_max)
            fill_max = ws[i].fill_max;
    }
    if (remote != freed_in) {
        fprintf(stderr, "error: %" PRIu64 " blocks handed off but %" PRIu64 " freed\n", remote, freed_in);
        return 4;
    }
    double secs = (double)(t1 - t0) * 1e-9;
    printf("Throughput = %.0f ops/s mode=%s threads=%zu ops=%" PRIu64 " remote=%" PRIu64
           " time=%.4fs peak_rss_kb=%ld inflight_avg=%.0f inflight_max=%" PRIu64 "\n",
           secs > 0 ? (double)total_allocs / secs : 0.0, mode, nworkers, total_allocs, remote, secs,
           peak_rss_kb(), fill_n ? (double)fill_sum * BATCH / (double)fill_n : 0.0, fill_max * BATCH);
    free(ws);
    free(rings);
    print_allocator();
    return 0;
}
