/*
 * thread_exit.c - many short-lived threads; per-thread state must be
 * recycled and blocks must outlive the thread that allocated them.
 *
 * 2000 threads (4 alive at a time). Each allocates 48 blocks (16 B..8 KiB,
 * in every 4th thread one of them 256 KiB; malloc/calloc/realloc), verifies
 * and frees half, hands a quarter to the main thread, and exits *holding*
 * the last quarter in a global table; those are freed afterwards by a
 * different, later thread (the "exits while holding blocks another thread
 * frees" case). The main thread frees the handed blocks several batches
 * later. Every thread also has a pthread_key destructor that frees and
 * allocates during thread exit (it runs after the thread's last ordinary
 * allocation, possibly after an allocator's own per-thread teardown).
 * All blocks are pattern-verified before free; RSS (/proc/self/statm) must
 * stay under 200 MiB throughout (a per-thread cache that is never reclaimed
 * grows RSS linearly with the thread count).
 */
#include "check.h"
#include <pthread.h>

#define NTHREADS 2000
#define BATCH 4
#define NB 48
#define HANDED_MAX (NB / 4 * BATCH * 8)

typedef struct {
    unsigned char *p;
    size_t n;
    unsigned seed;
} blk_t;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static blk_t handed[HANDED_MAX];
static int nhanded;
static blk_t held[BATCH][NB / 4]; /* blocks held by exited threads of the previous batch */
static pthread_key_t key;
static atomic_long key_destructor_runs;

static void key_dtor(void *v) {
    blk_t *b = v;
    CHECK(pat_check(b->p, b->n, b->seed) == (size_t)-1, "TLS destructor: block corrupted");
    free(b->p);
    void *x = malloc(100); /* allocate during thread teardown */
    CHECK(x != NULL, "malloc in TLS destructor failed");
    if (x) memset(x, 1, 100);
    free(x);
    free(b);
    atomic_fetch_add(&key_destructor_runs, 1);
}

static void verify_free(blk_t *b, const char *who) {
    size_t bad = pat_check(b->p, b->n, b->seed);
    CHECK(bad == (size_t)-1, "%s: block %p (%zu bytes) corrupted at %zu", who, (void *)b->p, b->n,
          bad);
    free(b->p);
    b->p = NULL;
}

typedef struct {
    int idx;   /* thread number */
    int slot;  /* position in batch */
} targ_t;

static void *short_thread(void *arg) {
    targ_t *ta = arg;
    unsigned s = (unsigned)ta->idx * 2654435761u + 1;
    blk_t b[NB];
    for (int i = 0; i < NB; i++) {
        s = s * 1103515245u + 12345u;
        /* every 4th thread: one 256 KiB block (beyond typical mmap thresholds) */
        size_t n = (i == NB - 1 && ta->idx % 4 == 0) ? 256 * 1024 : 16 + (s >> 8) % 8192;
        unsigned char *p;
        switch (i % 3) {
        case 0: p = malloc(n); break;
        case 1:
            p = calloc(1, n);
            if (p) CHECK(first_not(p, n, 0) == (size_t)-1, "calloc(%zu) in thread not zero", n);
            break;
        default:
            p = malloc(n / 2 + 1);
            p = p ? realloc(p, n) : NULL;
        }
        CHECK(p != NULL, "thread %d: alloc %zu failed", ta->idx, n);
        if (!p) return NULL;
        b[i] = (blk_t){p, n, s};
        pat_fill(p, n, s);
    }
    /* TLS destructor will free this at exit */
    blk_t *tb = malloc(sizeof *tb);
    tb->n = 333;
    tb->seed = s;
    tb->p = malloc(333);
    pat_fill(tb->p, 333, s);
    pthread_setspecific(key, tb);

    /* free half */
    for (int i = 0; i < NB / 2; i++) verify_free(&b[i], "own free");
    /* hand a quarter to main */
    pthread_mutex_lock(&mu);
    for (int i = NB / 2; i < NB / 2 + NB / 4; i++) {
        if (nhanded < HANDED_MAX) handed[nhanded++] = b[i];
        else verify_free(&b[i], "own free (queue full)");
    }
    pthread_mutex_unlock(&mu);
    /* exit holding the last quarter */
    for (int i = 0; i < NB / 4; i++) held[ta->slot][i] = b[NB / 2 + NB / 4 + i];
    return NULL;
}

/* a later thread frees what the exited threads held */
static void *reaper(void *arg) {
    (void)arg;
    for (int t = 0; t < BATCH; t++)
        for (int i = 0; i < NB / 4; i++)
            if (held[t][i].p) verify_free(&held[t][i], "reaper thread free");
    return NULL;
}

int main(void) {
    check_allocator();
    pthread_key_create(&key, key_dtor);
    long rss0 = rss_mib(), max_rss = rss0;
    targ_t ta[BATCH];
    int created = 0;
    for (int base = 0; base < NTHREADS; base += BATCH) {
        pthread_t th[BATCH];
        for (int k = 0; k < BATCH; k++) {
            ta[k] = (targ_t){base + k, k};
            int e = pthread_create(&th[k], NULL, short_thread, &ta[k]);
            CHECK(e == 0, "pthread_create failed: %d", e);
            if (e) return check_finish("thread_exit");
            created++;
        }
        for (int k = 0; k < BATCH; k++) pthread_join(th[k], NULL);
        /* owners are gone: a new thread frees their held blocks */
        pthread_t r;
        pthread_create(&r, NULL, reaper, NULL);
        pthread_join(r, NULL);
        /* main frees handed blocks every 8 batches (i.e. "later") */
        if ((base / BATCH) % 8 == 7) {
            pthread_mutex_lock(&mu);
            for (int i = 0; i < nhanded; i++) verify_free(&handed[i], "main free");
            nhanded = 0;
            pthread_mutex_unlock(&mu);
        }
        if ((base / BATCH) % 25 == 0) {
            long r2 = rss_mib();
            if (r2 > max_rss) max_rss = r2;
        }
    }
    for (int i = 0; i < nhanded; i++) verify_free(&handed[i], "main final free");
    long rss1 = rss_mib();
    if (rss1 > max_rss) max_rss = rss1;
    fprintf(stderr, "thread_exit: %d threads, RSS start %ld max %ld end %ld MiB, %ld TLS dtors\n",
            created, rss0, max_rss, rss1, atomic_load(&key_destructor_runs));
    CHECK(max_rss < 200, "RSS reached %ld MiB (limit 200) over %d threads", max_rss, created);
    CHECK(atomic_load(&key_destructor_runs) == created, "TLS destructors ran %ld times, expected %d",
          atomic_load(&key_destructor_runs), created);
    return check_finish("thread_exit");
}
