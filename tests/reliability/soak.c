/*
 * soak.c - long multi-threaded allocation soak with full content checking.
 *
 * Usage: soak [SECONDS=60] [THREADS=8] [RSS_LIMIT_MIB=1024] [SEED=1]
 *
 * THREADS workers run random operations until time is up:
 *   allocate  malloc / calloc / realloc(NULL) / aligned_alloc / posix_memalign
 *             / memalign, sizes 0..4 MiB log-distributed (each power of two
 *             equally likely), alignments 8 B..4 MiB;
 *   free      free, or free_sized / free_aligned_sized when the library has
 *             them (C23), with the exact size;
 *   realloc   to a new random size: the preserved prefix must hold the old
 *             pattern, the rest is filled;
 *   exchange  hand a block to a shared slot (256 slots); any thread takes it
 *             and frees it or adopts it (later realloc/free from a thread
 *             that did not allocate it);
 *   usable    malloc_usable_size >= requested; every 8th block is filled over
 *             its whole usable size (an over-reported size would overlap a
 *             neighbour and corrupt its pattern).
 * Every block carries a pattern derived from (its first address, size, a
 * unique id) and is verified in full before each free and realloc; calloc
 * memory is verified zero first. The live bytes are capped (192 MiB: a
 * request that would exceed the cap is shrunk below 1 KiB) so RSS has a
 * known bound. Each worker retires after a few seconds and a new thread
 * inherits its blocks (frees into memory of exited threads).
 * A monitor samples RSS (/proc/self/statm) every 100 ms.
 * Prints operations, verified bytes, peak RSS; exit 1 on any corruption,
 * allocation failure, misalignment, or peak RSS above RSS_LIMIT_MIB.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../statm.h"

#define MAXT 64
#define SLOTS 2048
#define XSLOTS 256
#define MAX_SIZE ((size_t)4 << 20)
#define LIVE_CAP ((long)192 << 20)

static atomic_int failures;
#define FAILF(...)                                                           \
    do {                                                                     \
        if (atomic_fetch_add(&failures, 1) < 30) {                           \
            fprintf(stderr, "FAIL soak: " __VA_ARGS__);                      \
            fputc('\n', stderr);                                             \
        }                                                                    \
    } while (0)

enum { K_MALLOC, K_CALLOC, K_REALLOC, K_ALIGNED, K_PMA, K_MEMALIGN, K_NKINDS };
static const char *kname[] = {"malloc", "calloc", "realloc", "aligned_alloc", "posix_memalign", "memalign"};

typedef struct {
    unsigned char *p;
    size_t n;     /* requested size */
    size_t len;   /* bytes carrying the pattern (n, or the usable size) */
    size_t align; /* for aligned_alloc blocks (free_aligned_sized) */
    uint64_t seed;
    int kind;
    /* history, printed if the process dies inside the allocator */
    int orig_kind, owner, handoffs, reallocs;
    size_t orig_n, orig_align;
} rec;

typedef struct xrec { rec r; } xrec;

/* The call each thread is making into the allocator right now: a crash
 * handler (SIGABRT/SIGSEGV/SIGBUS) prints them, so a failure inside the
 * allocator says which block (API, alignment, sizes, history) it was about. */
typedef struct { const char *volatile op; rec r; size_t arg; } cur_t;
static cur_t cur[MAXT + 1];
static _Thread_local int tid = MAXT; /* MAXT: the main thread */
static void on_crash(int sig) {
    char buf[512];
    int n = snprintf(buf, sizeof buf, "soak: caught signal %d; allocator calls in progress:\n", sig);
    if (n > 0) (void)!write(2, buf, (size_t)n);
    for (int i = 0; i <= MAXT; i++) {
        const rec *r = &cur[i].r;
        if (!cur[i].op) continue;
        n = snprintf(buf, sizeof buf,
                     "soak:   thread %d: %s(%p, arg %zu): block of %zu bytes, now kind %s; first allocated by "
                     "thread %d with %s(size %zu, alignment %zu); %d reallocs, %d hand-offs\n",
                     i, cur[i].op, (void *)r->p, cur[i].arg, r->n, kname[r->kind], r->owner, kname[r->orig_kind],
                     r->orig_n, r->orig_align, r->reallocs, r->handoffs);
        if (n > 0) (void)!write(2, buf, (size_t)n);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static _Atomic(xrec *) xslot[XSLOTS];
static rec tables[MAXT][SLOTS];
static atomic_long live_bytes;
static atomic_int stop_flag;
static void (*p_free_sized)(void *, size_t);
static void (*p_free_aligned_sized)(void *, size_t, size_t);

typedef struct {
    long ops, allocs, frees, reallocs, given, taken, adopted, usable_checks, verified;
    long by_kind[K_NKINDS];
} stats;
static stats totals;
static pthread_mutex_t totals_mu = PTHREAD_MUTEX_INITIALIZER;

static inline uint64_t mix(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}
static inline uint64_t rnd(uint64_t *s) {
    *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
    return *s;
}
/* pattern word k of a block: cheap (one multiply), distinct per seed */
static inline uint64_t pw(uint64_t seed, size_t k) { return seed ^ (k * 0x9E3779B97F4A7C15ULL); }

/* fill [from, to) with the block's pattern (from is a multiple of 8 or 0) */
static void fill_range(unsigned char *p, size_t from, size_t to, uint64_t seed) {
    size_t i = from;
    for (; i < to && (i & 7); i++) p[i] = (unsigned char)(pw(seed, i >> 3) >> ((i & 7) * 8));
    uint64_t *w = (uint64_t *)(p + i);
    size_t k = i >> 3;
    for (; i + 8 <= to; i += 8, k++) *w++ = pw(seed, k);
    for (; i < to; i++) p[i] = (unsigned char)(pw(seed, i >> 3) >> ((i & 7) * 8));
}
/* first mismatch in [0, n), or -1 */
static size_t check_range(const unsigned char *p, size_t n, uint64_t seed) {
    const uint64_t *w = (const uint64_t *)p;
    size_t k = 0;
    for (; (k + 1) * 8 <= n; k++)
        if (w[k] != pw(seed, k)) {
            for (size_t i = k * 8;; i++)
                if (p[i] != (unsigned char)(pw(seed, i >> 3) >> ((i & 7) * 8))) return i;
        }
    for (size_t i = k * 8; i < n; i++)
        if (p[i] != (unsigned char)(pw(seed, i >> 3) >> ((i & 7) * 8))) return i;
    return (size_t)-1;
}

static size_t rand_size(uint64_t *s) {
    uint64_t r = rnd(s);
    int e = r % 23; /* 0..22: [2^(e-1), 2^e) */
    if (e == 0) return (r >> 8) & 1;
    size_t lo = (size_t)1 << (e - 1);
    size_t n = lo + (r >> 8) % lo;
    return n > MAX_SIZE ? MAX_SIZE : n;
}

static int verify(const rec *b, const char *when, stats *st) {
    size_t at = check_range(b->p, b->len, b->seed);
    st->verified += b->len;
    if (at != (size_t)-1) {
        FAILF("%s: %s block %p of %zu bytes (pattern over %zu) corrupted at offset %zu: %#x", when, kname[b->kind],
              (void *)b->p, b->n, b->len, at, b->p[at]);
        return 0;
    }
    return 1;
}

static void release(rec *b, stats *st, uint64_t r) {
    verify(b, "before free", st);
    atomic_fetch_sub(&live_bytes, (long)b->n);
    cur[tid].r = *b;
    cur[tid].arg = b->n;
    cur[tid].op = "free";
    if (b->kind == K_ALIGNED && p_free_aligned_sized && (r & 1)) p_free_aligned_sized(b->p, b->align, b->n);
    else if ((b->kind == K_MALLOC || b->kind == K_CALLOC || b->kind == K_REALLOC) && p_free_sized && (r & 1))
        p_free_sized(b->p, b->n);
    else free(b->p);
    cur[tid].op = NULL;
    b->p = NULL;
    st->frees++;
}

static int allocate(rec *b, uint64_t *s, stats *st) {
    uint64_t r = rnd(s);
    size_t n = rand_size(s);
    if (atomic_load(&live_bytes) + (long)n > LIVE_CAP) n %= 1024;
    int kind;
    unsigned sel = r % 100;
    if (sel < 40) kind = K_MALLOC;
    else if (sel < 55) kind = K_CALLOC;
    else if (sel < 63) kind = K_REALLOC;
    else if (sel < 78) kind = K_ALIGNED;
    else if (sel < 92) kind = K_PMA;
    else kind = K_MEMALIGN;
    int lg = (r >> 8) % 100 < 97 ? 3 + (int)((r >> 16) % 14) : 17 + (int)((r >> 16) % 6); /* 8 B..64 KiB, rarely ..4 MiB */
    size_t align = (size_t)1 << lg;
    unsigned char *p = NULL;
    errno = 0;
    memset(&cur[tid].r, 0, sizeof cur[tid].r);
    cur[tid].r.orig_kind = cur[tid].r.kind = kind;
    cur[tid].r.orig_align = (kind == K_ALIGNED || kind == K_PMA || kind == K_MEMALIGN) ? align : 0;
    cur[tid].arg = n;
    cur[tid].op = kname[kind];
    switch (kind) {
    case K_MALLOC: p = malloc(n); break;
    case K_CALLOC: {
        size_t m = (r >> 24) % 4 == 0 && n >= 16 ? 16 : 1; /* calloc(n/16, 16) or calloc(1, n) */
        n = n / m * m;
        p = calloc(n / m, m);
        break;
    }
    case K_REALLOC: p = realloc(NULL, n); break;
    case K_ALIGNED: n = (n + align - 1) & ~(align - 1); p = aligned_alloc(align, n); break;
    case K_PMA: {
        void *q = NULL;
        int rc = posix_memalign(&q, align, n);
        if (rc) { cur[tid].op = NULL; FAILF("posix_memalign(%zu, %zu) = %d", align, n, rc); return 0; }
        p = q;
        break;
    }
    case K_MEMALIGN: p = memalign(align, n); break;
    }
    cur[tid].op = NULL;
    if (!p) {
        FAILF("%s of %zu bytes (alignment %zu) returned NULL, errno %d", kname[kind], n, align, errno);
        return 0;
    }
    if ((kind == K_ALIGNED || kind == K_PMA || kind == K_MEMALIGN) && ((uintptr_t)p & (align - 1)))
        FAILF("%s(%zu, %zu) = %p is misaligned", kname[kind], align, n, (void *)p);
    if ((kind == K_MALLOC || kind == K_CALLOC || kind == K_REALLOC) && ((uintptr_t)p & 15) && n >= 16)
        FAILF("%s(%zu) = %p not 16-byte aligned", kname[kind], n, (void *)p);
    if (kind == K_CALLOC) {
        for (size_t i = 0; i < n; i++)
            if (p[i]) { FAILF("calloc(%zu) byte %zu = %#x, not zero", n, i, p[i]); break; }
        st->verified += n;
    }
    size_t len = n;
    if ((r >> 40) % 8 == 0) {
        size_t u = malloc_usable_size(p);
        st->usable_checks++;
        if (u < n) FAILF("malloc_usable_size(%p) = %zu < requested %zu (%s)", (void *)p, u, n, kname[kind]);
        else len = u;
    }
    uint64_t seed = mix((uintptr_t)p ^ mix(n) ^ (r << 1)) | 1;
    fill_range(p, 0, len, seed);
    if (kind != K_ALIGNED && kind != K_PMA && kind != K_MEMALIGN) align = 0;
    *b = (rec){p, n, len, align, seed, kind, kind, tid, 0, 0, n, align};
    atomic_fetch_add(&live_bytes, (long)n);
    st->allocs++;
    st->by_kind[kind]++;
    return 1;
}

static void do_realloc(rec *b, uint64_t *s, stats *st) {
    verify(b, "before realloc", st);
    size_t m = rand_size(s);
    if (m > b->n && atomic_load(&live_bytes) + (long)(m - b->n) > LIVE_CAP) m = b->n / 2;
    if (m == 0) m = 1; /* realloc(p, 0) frees: not what is tested here */
    errno = 0;
    cur[tid].r = *b;
    cur[tid].arg = m;
    cur[tid].op = "realloc";
    unsigned char *q = realloc(b->p, m);
    cur[tid].op = NULL;
    if (!q) {
        FAILF("realloc(%p, %zu -> %zu) returned NULL, errno %d", (void *)b->p, b->n, m, errno);
        return; /* the old block is still ours */
    }
    size_t keep = m < b->n ? m : b->n;
    size_t at = check_range(q, keep, b->seed);
    st->verified += keep;
    if (at != (size_t)-1)
        FAILF("realloc %zu -> %zu (%p -> %p): preserved prefix differs at %zu", b->n, m, (void *)b->p, (void *)q, at);
    if (((uintptr_t)q & 15) && m >= 16) FAILF("realloc result %p not 16-byte aligned", (void *)q);
    /* the pattern continues with the same seed past the preserved prefix */
    fill_range(q, keep & ~(size_t)7, m, b->seed);
    atomic_fetch_add(&live_bytes, (long)m - (long)b->n);
    b->p = q;
    b->n = m;
    b->len = m;
    b->kind = K_REALLOC;
    b->reallocs++;
    st->reallocs++;
}

typedef struct { int id; int gen; uint64_t seed; double retire_at; } warg;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *worker(void *arg) {
    warg *a = arg;
    rec *tab = tables[a->id];
    tid = a->id;
    uint64_t s = mix(a->seed * 1000003 + a->id * 7919 + a->gen) | 1;
    stats st;
    memset(&st, 0, sizeof st);
    while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
        for (int k = 0; k < 64; k++) {
            uint64_t r = rnd(&s);
            rec *b = &tab[r % SLOTS];
            unsigned sel = (r >> 20) % 100;
            if (!b->p) {
                allocate(b, &s, &st);
            } else if (sel < 45) {
                release(b, &st, r >> 40);
            } else if (sel < 70) {
                do_realloc(b, &s, &st);
            } else if (sel < 85) {
                xrec *x = malloc(sizeof *x);
                if (!x) { FAILF("malloc(xrec)"); continue; }
                verify(b, "before hand-off", &st);
                x->r = *b;
                x->r.handoffs++;
                b->p = NULL;
                x = atomic_exchange(&xslot[(r >> 32) % XSLOTS], x);
                st.given++;
                if (x) { release(&x->r, &st, r >> 41); free(x); }
            } else {
                size_t u = malloc_usable_size(b->p);
                st.usable_checks++;
                if (u < b->n) FAILF("malloc_usable_size = %zu < %zu", u, b->n);
            }
            if ((r >> 50) % 8 == 0) { /* take a block some other thread handed off */
                xrec *x = atomic_exchange(&xslot[(r >> 30) % XSLOTS], NULL);
                if (x) {
                    st.taken++;
                    rec *e = &tab[(r >> 12) % SLOTS];
                    if (!e->p && (r & 1)) {
                        verify(&x->r, "adopted", &st);
                        *e = x->r;
                        st.adopted++;
                    } else {
                        release(&x->r, &st, r >> 42);
                    }
                    free(x);
                }
            }
            st.ops++;
        }
        if (now_s() >= a->retire_at) break;
    }
    pthread_mutex_lock(&totals_mu);
    long *d = (long *)&totals, *src = (long *)&st;
    for (size_t i = 0; i < sizeof st / sizeof(long); i++) d[i] += src[i];
    pthread_mutex_unlock(&totals_mu);
    return NULL;
}

int main(int argc, char **argv) {
    double secs = argc > 1 ? atof(argv[1]) : 60;
    int nt = argc > 2 ? atoi(argv[2]) : 8;
    long rss_limit = argc > 3 ? atol(argv[3]) : 1024;
    uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 0) : 1;
    if (nt < 1 || nt > MAXT || secs <= 0) { fprintf(stderr, "usage: soak [seconds] [threads<=64] [rss-MiB] [seed]\n"); return 2; }
    signal(SIGABRT, on_crash);
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    p_free_sized = (void (*)(void *, size_t))dlsym(RTLD_DEFAULT, "free_sized");
    p_free_aligned_sized = (void (*)(void *, size_t, size_t))dlsym(RTLD_DEFAULT, "free_aligned_sized");
    fprintf(stderr, "soak: %.0f s, %d threads, RSS limit %ld MiB, seed %llu, free_sized %s\n", secs, nt, rss_limit,
            (unsigned long long)seed, p_free_sized ? "yes" : "no (not exported)");

    pthread_t th[MAXT];
    warg args[MAXT];
    double t0 = now_s(), end = t0 + secs;
    int generations = 0;
    for (int i = 0; i < nt; i++) {
        args[i] = (warg){i, 0, seed, t0 + 2 + (mix(seed + i) % 4000) / 1000.0};
        if (pthread_create(&th[i], NULL, worker, &args[i])) { fprintf(stderr, "pthread_create failed\n"); return 1; }
        generations++;
    }
    long peak = 0, samples = 0;
    double last_print = t0;
    while (now_s() < end) {
        usleep(100000);
        long r = rss_mib();
        if (r > peak) peak = r;
        samples++;
        double t = now_s();
        for (int i = 0; i < nt; i++) { /* retire and replace: the successor inherits the slot table */
            if (t >= args[i].retire_at && t < end - 1) {
                pthread_join(th[i], NULL);
                args[i].gen++;
                args[i].retire_at = t + 2 + (mix(seed + i + args[i].gen * 131) % 4000) / 1000.0;
                if (pthread_create(&th[i], NULL, worker, &args[i])) { FAILF("pthread_create"); args[i].retire_at = 1e18; }
                generations++;
            }
        }
        if (t - last_print >= 10) {
            fprintf(stderr, "soak: t=%.0f s RSS %ld MiB (peak %ld), live %ld MiB, failures %d\n", t - t0, r, peak,
                    atomic_load(&live_bytes) >> 20, atomic_load(&failures));
            last_print = t;
        }
    }
    atomic_store(&stop_flag, 1);
    for (int i = 0; i < nt; i++) pthread_join(th[i], NULL);
    long r = rss_mib();
    if (r > peak) peak = r;
    /* main thread frees everything left (blocks of exited threads) */
    stats st;
    memset(&st, 0, sizeof st);
    long left = 0;
    for (int i = 0; i < nt; i++)
        for (int j = 0; j < SLOTS; j++)
            if (tables[i][j].p) { release(&tables[i][j], &st, j); left++; }
    for (int j = 0; j < XSLOTS; j++) {
        xrec *x = atomic_exchange(&xslot[j], NULL);
        if (x) { release(&x->r, &st, j); free(x); left++; }
    }
    totals.verified += st.verified;
    if (atomic_load(&live_bytes) != 0) FAILF("live byte count %ld != 0 at the end", atomic_load(&live_bytes));
    malloc_trim(0);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double el = now_s() - t0;
    printf("soak: %.1f s, %d threads, %d thread generations\n", el, nt, generations);
    printf("soak: operations %ld (%.0f/s): allocs %ld, frees %ld, reallocs %ld, handed off %ld, taken %ld (adopted %ld), "
           "usable-size checks %ld\n",
           totals.ops, totals.ops / el, totals.allocs, totals.frees + st.frees, totals.reallocs, totals.given,
           totals.taken, totals.adopted, totals.usable_checks);
    printf("soak: by API:");
    for (int k = 0; k < K_NKINDS; k++) printf(" %s %ld", kname[k], totals.by_kind[k]);
    printf("\n");
    printf("soak: verified bytes %.2f GiB; blocks left at the end %ld (freed by main)\n",
           totals.verified / (double)(1 << 30), left);
    printf("soak: peak RSS %ld MiB (sampled %ld times; ru_maxrss %ld MiB), RSS after freeing all %ld MiB, limit %ld MiB\n",
           peak, samples, ru.ru_maxrss / 1024, rss_mib(), rss_limit);
    if (peak > rss_limit) FAILF("peak RSS %ld MiB above the limit %ld MiB", peak, rss_limit);
    if (totals.ops < 1000) FAILF("only %ld operations", totals.ops);
    int f = atomic_load(&failures);
    printf("soak: %s (%d failures)\n", f ? "FAILED" : "OK", f);
    return f ? 1 : 0;
}
