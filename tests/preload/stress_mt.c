/*
 * stress_mt.c - multi-threaded allocation stress with cross-thread frees.
 *
 * Usage: stress_mt [seconds=3] [threads=8]
 * Each thread keeps 256 slots of live blocks and, until time is up, randomly
 *  - allocates (malloc / calloc / aligned_alloc / posix_memalign / realloc
 *    from NULL) a block of random size: ~90% 1..1024 B, ~9% 1..64 KiB,
 *    ~1% 64 KiB..4 MiB; fills it with a pattern derived from its address,
 *    size and a unique allocation id (so a block handed out twice is caught
 *    even at equal sizes; calloc blocks are first checked to be zero);
 *  - frees a block (pattern verified first);
 *  - reallocs a block (pattern verified before; afterwards the preserved
 *    prefix must still hold the *old* pattern; then refilled);
 *  - hands a block to another random thread through a mutex-protected
 *    mailbox; the receiver verifies and frees it (remote free).
 * At least 30% of disposed blocks must go through the mailboxes (checked, so
 * the test cannot silently degrade into a single-thread test). At the end
 * each thread frees half of its remaining blocks; the main thread frees the
 * rest after the owners exited. Any mismatch, misalignment or NULL fails.
 * Why: per-thread caches, remote-free lists and size-class races are where
 * concurrent allocators corrupt memory or hand the same block out twice.
 */
#include "check.h"
#include <pthread.h>
#include <time.h>

#define SLOTS 256
#define MBOX 1024
#define MAXT 64

typedef struct {
    unsigned char *p;
    size_t n;
    uint64_t id; /* unique per allocation: two owners of one block write different patterns */
} blk_t;

typedef struct {
    pthread_mutex_t mu;
    blk_t q[MBOX];
    int head, count;
} mailbox_t;

static mailbox_t mbox[MAXT];
static int nthreads = 8;
static atomic_int stop_flag;
static atomic_long total_ops, total_handoff, total_local_free, total_remote_free,
    total_realloc, total_alloc;
static blk_t leftovers[MAXT][SLOTS];

/* ---- pattern derived from (address, size) ---- */
static inline uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}
static inline uint64_t seed_of(const void *p, size_t n, uint64_t id) {
    return mix((uintptr_t)p ^ (n * 0x9E3779B97F4A7C15ULL) ^ mix(id));
}
static _Thread_local uint64_t next_id;
static inline uint64_t word_at(uint64_t seed, size_t wi) { return seed ^ (wi * 0x9E3779B97F4A7C15ULL) ^ (wi << 7); }
static inline unsigned char byte_at(uint64_t seed, size_t i) {
    return (unsigned char)(word_at(seed, i >> 3) >> ((i & 7) * 8));
}

/* fill/check [lo,hi) of the pattern */
static void fill_range(unsigned char *p, size_t lo, size_t hi, uint64_t seed) {
    size_t i = lo;
    while (i < hi && (i & 7)) { p[i] = byte_at(seed, i); i++; }
    for (; i + 8 <= hi; i += 8) {
        uint64_t w = word_at(seed, i >> 3);
        memcpy(p + i, &w, 8);
    }
    for (; i < hi; i++) p[i] = byte_at(seed, i);
}
static size_t check_range(const unsigned char *p, size_t lo, size_t hi, uint64_t seed) {
    size_t i = lo;
    while (i < hi && (i & 7)) { if (p[i] != byte_at(seed, i)) return i; i++; }
    for (; i + 8 <= hi; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w != word_at(seed, i >> 3)) {
            for (size_t k = i; k < i + 8; k++) if (p[k] != byte_at(seed, k)) return k;
        }
    }
    for (; i < hi; i++) if (p[i] != byte_at(seed, i)) return i;
    return (size_t)-1;
}
static size_t zero_range(const unsigned char *p, size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; i++) if (p[i]) return i;
    return (size_t)-1;
}

/* Blocks <= 64 KiB are filled completely; bigger ones in their first and last
 * 4 KiB plus one word every 4 KiB. `limit` restricts checking to a prefix. */
#define FULL_MAX 65536
static size_t apply(unsigned char *p, size_t n, size_t limit, uint64_t seed, int mode) {
    /* mode 0 fill, 1 check, 2 check zero */
    size_t lim = limit < n ? limit : n, r;
#define DO(lo, hi)                                                                     \
    do {                                                                               \
        size_t lo_ = (lo), hi_ = (hi) < lim ? (hi) : lim;                              \
        if (lo_ < hi_) {                                                               \
            if (mode == 0) fill_range(p, lo_, hi_, seed);                              \
            else if ((r = (mode == 1 ? check_range(p, lo_, hi_, seed)                  \
                                     : zero_range(p, lo_, hi_))) != (size_t)-1)        \
                return r;                                                              \
        }                                                                              \
    } while (0)
    if (n <= FULL_MAX) {
        DO(0, n);
    } else {
        DO(0, 4096);
        for (size_t o = 4096; o + 8 <= n - 4096; o += 4096) DO(o, o + 8);
        DO(n - 4096, n);
    }
#undef DO
    return (size_t)-1;
}

/* ---- per-thread work ---- */
typedef struct {
    int id;
    uint64_t rng;
} targ_t;

static inline uint64_t rnd(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static size_t rand_size(uint64_t *s) {
    unsigned r = rnd(s) % 1000;
    if (r < 900) return 1 + rnd(s) % 1024;
    if (r < 990) return 1 + rnd(s) % 65536;
    return 65536 + rnd(s) % (4u << 20);
}

static void verify_block(const blk_t *b, const char *when) {
    size_t bad = apply(b->p, b->n, b->n, seed_of(b->p, b->n, b->id), 1);
    CHECK(bad == (size_t)-1, "%s: block %p size %zu pattern mismatch at offset %zu", when,
          (void *)b->p, b->n, bad);
}

static void verify_free(blk_t *b, const char *when) {
    verify_block(b, when);
    free(b->p);
    b->p = NULL;
}

static void new_block(blk_t *b, uint64_t *s) {
    size_t n = rand_size(s);
    unsigned kind = rnd(s) % 20;
    unsigned char *p = NULL;
    int zero = 0;
    size_t align = 16;
    if (kind < 11) {
        p = malloc(n);
    } else if (kind < 14) {
        p = calloc(1, n);
        zero = 1;
    } else if (kind < 16) {
        align = (size_t)16 << (rnd(s) % 9); /* 16..4096 */
        p = aligned_alloc(align, n);
    } else if (kind < 17) {
        align = (size_t)8 << (rnd(s) % 7);
        void *q = NULL;
        if (posix_memalign(&q, align, n) == 0) p = q;
        if (align < 16) align = 16;
    } else if (kind < 18) {
        p = calloc(n, 1);
        zero = 1;
    } else {
        p = realloc(NULL, n);
    }
    CHECK(p != NULL, "allocation of %zu bytes (kind %u) failed", n, kind);
    if (!p) { b->p = NULL; return; }
    CHECK(is_aligned(p, align), "kind %u alloc %zu = %p not %zu-aligned", kind, n, (void *)p, align);
    if (zero) {
        size_t bad = apply(p, n, n, 0, 2);
        CHECK(bad == (size_t)-1, "calloc(%zu) = %p not zero at %zu", n, (void *)p, bad);
    }
    b->id = ++next_id;
    apply(p, n, n, seed_of(p, n, b->id), 0);
    b->p = p;
    b->n = n;
    atomic_fetch_add(&total_alloc, 1);
}

static void do_realloc(blk_t *b, uint64_t *s) {
    verify_block(b, "before realloc");
    uint64_t old_seed = seed_of(b->p, b->n, b->id);
    size_t old_n = b->n;
    size_t n = (rnd(s) & 1) ? rand_size(s) : old_n + rnd(s) % 256; /* jump or small growth */
    if (n == 0) n = 1;
    unsigned char *q = realloc(b->p, n);
    CHECK(q != NULL, "realloc(%p, %zu -> %zu) failed", (void *)b->p, old_n, n);
    if (!q) return; /* old block still valid */
    CHECK(is_aligned(q, 16), "realloc result %p misaligned", (void *)q);
    /* preserved prefix still has the old pattern (checked where it was filled) */
    size_t keep = old_n < n ? old_n : n;
    size_t bad = apply(q, old_n, keep, old_seed, 1);
    CHECK(bad == (size_t)-1, "realloc %zu -> %zu (%p): preserved prefix mismatch at %zu", old_n, n,
          (void *)q, bad);
    b->p = q;
    b->n = n;
    b->id = ++next_id;
    apply(q, n, n, seed_of(q, n, b->id), 0);
    atomic_fetch_add(&total_realloc, 1);
}

static int mailbox_push(int t, blk_t b) {
    mailbox_t *m = &mbox[t];
    pthread_mutex_lock(&m->mu);
    int ok = m->count < MBOX;
    if (ok) {
        m->q[(m->head + m->count) % MBOX] = b;
        m->count++;
    }
    pthread_mutex_unlock(&m->mu);
    return ok;
}

static int mailbox_drain(int t) {
    mailbox_t *m = &mbox[t];
    blk_t local[MBOX];
    int n;
    pthread_mutex_lock(&m->mu);
    n = m->count;
    for (int i = 0; i < n; i++) local[i] = m->q[(m->head + i) % MBOX];
    m->head = (m->head + n) % MBOX;
    m->count = 0;
    pthread_mutex_unlock(&m->mu);
    for (int i = 0; i < n; i++) verify_free(&local[i], "remote free");
    atomic_fetch_add(&total_remote_free, n);
    return n;
}

static void *worker(void *arg) {
    targ_t *ta = arg;
    uint64_t s = ta->rng;
    next_id = (uint64_t)ta->id << 48;
    blk_t slots[SLOTS];
    memset(slots, 0, sizeof slots);
    long ops = 0, handoff = 0, lfree = 0;
    while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
        for (int k = 0; k < 64; k++) {
            ops++;
            blk_t *b = &slots[rnd(&s) % SLOTS];
            if (!b->p) { new_block(b, &s); continue; }
            unsigned r = rnd(&s) % 100;
            if (r < 40 && nthreads > 1) {
                verify_block(b, "before handoff");
                int to = (int)(rnd(&s) % (nthreads - 1));
                if (to >= ta->id) to++;
                if (mailbox_push(to, *b)) {
                    b->p = NULL;
                    handoff++;
                } else {
                    verify_free(b, "local free (mailbox full)");
                    lfree++;
                }
            } else if (r < 60) {
                do_realloc(b, &s);
            } else {
                verify_free(b, "local free");
                lfree++;
            }
        }
        mailbox_drain(ta->id);
    }
    /* free half of what is left here, leave the rest to main (owner gone) */
    for (int i = 0; i < SLOTS; i++) {
        if (!slots[i].p) continue;
        if (i & 1) { verify_free(&slots[i], "final local free"); lfree++; }
        else leftovers[ta->id][i] = slots[i];
    }
    mailbox_drain(ta->id);
    atomic_fetch_add(&total_ops, ops);
    atomic_fetch_add(&total_handoff, handoff);
    atomic_fetch_add(&total_local_free, lfree);
    return NULL;
}

int main(int argc, char **argv) {
    double secs = argc > 1 ? atof(argv[1]) : 3.0;
    if (argc > 2) nthreads = atoi(argv[2]);
    if (nthreads < 2) nthreads = 2;
    if (nthreads > MAXT) nthreads = MAXT;
    check_allocator();
    pthread_t th[MAXT];
    targ_t ta[MAXT];
    for (int i = 0; i < nthreads; i++) pthread_mutex_init(&mbox[i].mu, NULL);
    for (int i = 0; i < nthreads; i++) {
        ta[i].id = i;
        ta[i].rng = 0x9E3779B97F4A7C15ULL * (i + 1) + (uint64_t)time(NULL);
        int e = pthread_create(&th[i], NULL, worker, &ta[i]);
        CHECK(e == 0, "pthread_create failed: %d", e);
        if (e) return check_finish("stress_mt");
    }
    struct timespec ts = {(time_t)secs, (long)((secs - (time_t)secs) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&stop_flag, 1);
    for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
    /* blocks pushed after their receiver's last drain, and leftovers of exited threads */
    for (int i = 0; i < nthreads; i++) mailbox_drain(i);
    long left = 0;
    for (int i = 0; i < nthreads; i++)
        for (int j = 0; j < SLOTS; j++)
            if (leftovers[i][j].p) { verify_free(&leftovers[i][j], "free after owner exit"); left++; }

    long ops = atomic_load(&total_ops), ho = atomic_load(&total_handoff);
    long lf = atomic_load(&total_local_free) + left;
    double share = (ho + lf) ? (double)ho / (double)(ho + lf) : 0;
    fprintf(stderr,
            "stress_mt: %d threads, %.1f s: %ld ops, %ld allocs, %ld reallocs, %ld handed off "
            "(%.0f%% of frees), %ld remote frees, %ld local frees\n",
            nthreads, secs, ops, atomic_load(&total_alloc), atomic_load(&total_realloc), ho,
            share * 100, atomic_load(&total_remote_free), lf);
    CHECK(ops > 1000, "only %ld operations in %.1f s", ops, secs);
    CHECK(share >= 0.30, "only %.0f%% of blocks were freed by another thread", share * 100);
    CHECK(atomic_load(&total_remote_free) == ho, "handed off %ld but remote-freed %ld", ho,
          atomic_load(&total_remote_free));
    return check_finish("stress_mt");
}
