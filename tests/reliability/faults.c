/*
 * faults.c - allocator behaviour under adverse conditions.
 *
 *   faults oom      memory exhaustion: needs an address-space limit
 *                   (ulimit -v / prlimit --as, <= 4 GiB; refuses to run
 *                   without one). For each API (malloc small, malloc large,
 *                   calloc, realloc growth, posix_memalign, aligned_alloc,
 *                   memalign, then 4 threads at once) allocates until the
 *                   allocator says no; every failure must be NULL + errno
 *                   ENOMEM (posix_memalign: return ENOMEM, *memptr
 *                   untouched); a failed realloc must leave the old block
 *                   intact. Each phase runs in its own child process. Then
 *                   everything is freed (contents verified) and allocation
 *                   must work again: the same API up to half the earlier
 *                   count, 10000 small blocks, 64 MiB (not asserted on glibc,
 *                   whose brk heap keeps its address space), a new thread.
 *   faults fork     8 threads allocate while they fork, 50 forks in all;
 *                   each child verifies the forking thread's blocks,
 *                   allocates (small, large, calloc, realloc, a thread) and
 *                   exits 0; a child that hangs is killed by alarm(20).
 *   faults churn    5000 short-lived threads in 50 waves of 100; each
 *                   allocates, frees, and hands blocks to the main thread
 *                   (freed after the thread died); RSS (/proc/self/statm)
 *                   must stay below 256 MiB.
 *   faults signals  setitimer(ITIMER_REAL and ITIMER_PROF, 100 us) while 4
 *                   threads do allocation-heavy work for 3 s; the handlers
 *                   only count; blocks are pattern-checked; signals must have
 *                   been delivered to the workers.
 * Exit status 0 only if every check passed. Prints a summary line.
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
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../statm.h"

static atomic_int failures;
static atomic_long checks;
#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        atomic_fetch_add(&checks, 1);                                        \
        if (!(cond)) {                                                       \
            if (atomic_fetch_add(&failures, 1) < 30) {                       \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);         \
                fprintf(stderr, __VA_ARGS__);                                \
                fputc('\n', stderr);                                         \
            }                                                                \
        }                                                                    \
    } while (0)

static inline size_t opaque(size_t n) { volatile size_t v = n; return v; }

static inline uint64_t mix(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}
static inline unsigned char pat(uint64_t seed, size_t i) {
    return (unsigned char)(mix(seed + (i >> 3)) >> ((i & 7) * 8));
}
/* sampled fill/check: every byte for n <= 4096, else the first and last 2 KiB
 * and one byte per 16 KiB in between (keeps RSS and time bounded for huge
 * blocks: a quarter of their pages are touched) */
#define STRIDE_MASK 16383
static inline size_t next_i(size_t i, size_t n) {
    if (n <= 4096 || i + 1 < 2048 || i + 1 >= n - 2048) return i + 1;
    size_t j = (i | STRIDE_MASK) + 1;
    return j > n - 2048 ? n - 2048 : j;
}
static void fill(unsigned char *p, size_t n, uint64_t seed) {
    for (size_t i = 0; i < n; i = next_i(i, n)) p[i] = pat(seed, i);
}
static size_t check(const unsigned char *p, size_t n, uint64_t seed) {
    for (size_t i = 0; i < n; i = next_i(i, n))
        if (p[i] != pat(seed, i)) return i;
    return (size_t)-1;
}
/* the first keep bytes of a block that was filled at size n */
static size_t check_prefix(const unsigned char *p, size_t keep, size_t n, uint64_t seed) {
    for (size_t i = 0; i < keep && i < n; i = next_i(i, n))
        if (p[i] != pat(seed, i)) return i;
    return (size_t)-1;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------ oom -- */
/* Live blocks form a singly linked list through their first 16 bytes:
 * [next][size]; the rest carries the pattern (seed = address). */
typedef struct blk { struct blk *next; size_t size; } blk;
#define HDR sizeof(blk)

static void push(blk **head, void *p, size_t n) {
    blk *b = p;
    b->next = *head;
    b->size = n;
    if (n > HDR) fill((unsigned char *)p + HDR, n - HDR, (uintptr_t)p);
    *head = b;
}
static long free_all(blk **head, const char *what) {
    long n = 0, bad = 0;
    blk *b = *head;
    while (b) {
        blk *next = b->next;
        if (b->size > HDR) {
            size_t at = check((unsigned char *)b + HDR, b->size - HDR, (uintptr_t)b);
            if (at != (size_t)-1) bad++;
        }
        free(b);
        b = next;
        n++;
    }
    *head = NULL;
    CHECK(bad == 0, "%s: %ld of %ld blocks corrupted when freed", what, bad, n);
    return n;
}

/* exhaust with one API; returns the number of successful allocations */
enum { A_SMALL, A_LARGE, A_CALLOC, A_PMA, A_ALIGNED, A_MEMALIGN };
static const char *aname[] = {"malloc-small", "malloc-large", "calloc", "posix_memalign", "aligned_alloc", "memalign"};

static size_t size_for(int api, long i) {
    switch (api) {
    case A_SMALL: return 16 + (size_t)(i * 37) % 1009;                 /* 16..1024 */
    case A_LARGE: return ((size_t)1 << 20) + (size_t)(i % 7) * 700000;  /* 1..5.2 MiB */
    case A_CALLOC: return 64 + (size_t)(i * 7919) % (256 << 10);       /* 64 B..256 KiB */
    default: return 32 + (size_t)(i * 4099) % (96 << 10);
    }
}

static long exhaust(int api, blk **head, long max_allocs) {
    long ok = 0, fails = 0;
    for (long i = 0; i < max_allocs; i++) {
        size_t n = size_for(api, i);
        size_t align = (size_t)16 << (i % 13); /* 16 .. 64 KiB */
        void *p = NULL;
        int rc = 0;
        errno = 0;
        switch (api) {
        case A_SMALL: case A_LARGE: p = malloc(n); break;
        case A_CALLOC: p = calloc(1, n); break;
        case A_PMA: {
            void *sentinel = (void *)0x5a5a;
            p = sentinel;
            rc = posix_memalign(&p, align, n);
            if (rc != 0) {
                CHECK(rc == ENOMEM, "%s: returned %d, expected ENOMEM", aname[api], rc);
                CHECK(p == sentinel, "%s: *memptr modified on failure", aname[api]);
                p = NULL;
            }
            break;
        }
        case A_ALIGNED: n = (n + align - 1) & ~(align - 1); p = aligned_alloc(align, n); break;
        case A_MEMALIGN: p = memalign(align, n); break;
        }
        if (!p) {
            if (api != A_PMA) CHECK(errno == ENOMEM, "%s(%zu): NULL with errno %d, expected ENOMEM", aname[api], n, errno);
            fails++;
            /* a few more attempts at smaller sizes, then stop */
            if (fails >= 64) break;
            continue;
        }
        if (api >= A_PMA) CHECK(((uintptr_t)p & (align - 1)) == 0, "%s: %p not %zu-aligned", aname[api], p, align);
        if (api == A_CALLOC) {
            const unsigned char *c = p;
            size_t bad = (size_t)-1;
            for (size_t k = 0; k < n; k += (n > 8192 ? 61 : 1))
                if (c[k]) { bad = k; break; }
            if (c[n - 1]) bad = n - 1;
            CHECK(bad == (size_t)-1, "calloc(1, %zu): byte %zu not zero", n, bad);
        }
        push(head, p, n);
        ok++;
    }
    CHECK(fails > 0, "%s: no failure after %ld allocations (is the limit set?)", aname[api], ok);
    return ok;
}

/* realloc growth: grow blocks by 1.5x until realloc fails; the old block must
 * survive the failure intact; then start another block */
static long realloc_growth(blk **head) {
    long grown = 0, fails = 0;
    for (int blocks = 0; blocks < 4096; blocks++) {
        size_t n = 4096;
        unsigned char *p = malloc(n);
        if (!p) { CHECK(errno == ENOMEM, "malloc errno %d", errno); break; }
        uint64_t seed = mix(blocks + 77);
        fill(p, n, seed);
        for (int steps = 0; steps < 200; steps++) {
            size_t m = n + n / 2;
            errno = 0;
            unsigned char *q = realloc(p, m);
            if (!q) {
                fails++;
                CHECK(errno == ENOMEM, "realloc(%zu): NULL with errno %d", m, errno);
                size_t at = check(p, n, seed);
                CHECK(at == (size_t)-1, "realloc failure clobbered the old block at %zu of %zu", at, n);
                break;
            }
            size_t at = check(q, n, seed);
            CHECK(at == (size_t)-1, "realloc %zu->%zu lost data at %zu", n, m, at);
            /* the sampled positions depend on the size: re-fill (same seed) */
            fill(q, m, seed);
            p = q;
            n = m;
            grown++;
        }
        /* keep it (as a list node: header overwrites the first bytes) */
        push(head, p, n);
        if (n <= 8192) break; /* could not even grow a small block: exhausted */
    }
    CHECK(fails > 0, "realloc growth never failed");
    return grown;
}

/* true when malloc is glibc's own (the suite is validated on glibc too) */
static int malloc_is_glibc(void) {
    Dl_info info;
    return dladdr((void *)malloc, &info) && info.dli_fname && strstr(info.dli_fname, "libc.so");
}

/* After a phase freed everything: allocation must work again.
 *  - the same API again, up to half the count that succeeded before: all must
 *    succeed (freed memory is reusable);
 *  - 10000 small mallocs;
 *  - one 64 MiB malloc, written. glibc cannot always do this one after an
 *    exhausting phase (its brk heap keeps the address space while tcache
 *    entries pin the top), so on glibc it is reported, not asserted. */
static void alloc_again(int api, long before, const char *what) {
    blk *h = NULL;
    long want = before / 2, got = 0;
    if (api >= 0) {
        for (long i = 0; i < want; i++) {
            size_t n = size_for(api, i);
            size_t align = (size_t)16 << (i % 13);
            void *p = NULL;
            switch (api) {
            case A_SMALL: case A_LARGE: p = malloc(n); break;
            case A_CALLOC: p = calloc(1, n); break;
            case A_PMA: if (posix_memalign(&p, align, n)) p = NULL; break;
            case A_ALIGNED: n = (n + align - 1) & ~(align - 1); p = aligned_alloc(align, n); break;
            case A_MEMALIGN: p = memalign(align, n); break;
            }
            if (!p) break;
            push(&h, p, n);
            got++;
        }
        CHECK(got == want, "%s again after freeing: only %ld of %ld allocations succeeded (errno %d)", what, got, want,
              errno);
        free_all(&h, what);
    }
    for (int i = 0; i < 10000; i++) {
        void *q = malloc(16 + i % 500);
        CHECK(q != NULL, "after %s: small malloc %d failed", what, i);
        if (!q) break;
        push(&h, q, 16 + i % 500);
    }
    free_all(&h, what);
    size_t big = (size_t)64 << 20;
    unsigned char *p = malloc(big);
    if (p) {
        memset(p, 0x5c, big);
        CHECK(p[big - 1] == 0x5c && p[0] == 0x5c, "write");
        free(p);
    } else if (malloc_is_glibc()) {
        fprintf(stderr, "oom: note: glibc could not malloc(64 MiB) after %s (address space kept)\n", what);
    } else {
        CHECK(0, "after %s was freed: malloc(64 MiB) failed (errno %d)", what, errno);
    }
}

typedef struct { blk *head; long ok; int id; } oom_thread_arg;
static pthread_barrier_t oom_barrier;
static void *oom_thread(void *a) {
    oom_thread_arg *t = a;
    pthread_barrier_wait(&oom_barrier);
    t->ok = exhaust(t->id % 2 ? A_SMALL : A_LARGE, &t->head, 50000000);
    pthread_barrier_wait(&oom_barrier); /* everybody exhausted: now free */
    free_all(&t->head, "thread");
    void *p = malloc(100000); /* and allocate again on this thread */
    CHECK(p != NULL, "thread %d: malloc after freeing failed", t->id);
    free(p);
    return NULL;
}

static void *malloc_thread(void *n) { return malloc((size_t)(uintptr_t)n); }

/* one phase (runs in its own child process: a fresh heap each time) */
static void oom_phase(int phase) {
    double t0 = now_s();
    if (phase <= A_MEMALIGN) {
        blk *h = NULL;
        long ok = exhaust(phase, &h, 50000000);
        long n = free_all(&h, aname[phase]);
        alloc_again(phase, ok, aname[phase]);
        fprintf(stderr, "oom: %-15s %8ld allocations before failure, %ld freed, re-allocated (%.2f s)\n",
                aname[phase], ok, n, now_s() - t0);
    } else if (phase == A_MEMALIGN + 1) {
        blk *h = NULL;
        long grown = realloc_growth(&h);
        long n = free_all(&h, "realloc");
        alloc_again(-1, 0, "realloc growth");
        fprintf(stderr, "oom: realloc-growth  %8ld successful grows, %ld blocks freed (%.2f s)\n", grown, n,
                now_s() - t0);
    } else {
        enum { NT = 4 };
        pthread_t th[NT];
        oom_thread_arg a[NT];
        pthread_barrier_init(&oom_barrier, NULL, NT);
        int started = 0;
        for (int i = 0; i < NT; i++) {
            a[i] = (oom_thread_arg){NULL, 0, i};
            if (pthread_create(&th[i], NULL, oom_thread, &a[i]) == 0) started++;
        }
        CHECK(started == NT, "pthread_create");
        if (started != NT) _exit(1);
        long tot = 0;
        for (int i = 0; i < NT; i++) { pthread_join(th[i], NULL); tot += a[i].ok; }
        alloc_again(-1, 0, "4 threads");
        pthread_t t;
        void *ret = NULL; /* a new thread after all this */
        CHECK(pthread_create(&t, NULL, malloc_thread, (void *)(uintptr_t)1000) == 0, "new thread");
        pthread_join(t, &ret);
        CHECK(ret != NULL, "malloc on a new thread after exhaustion");
        free(ret);
        fprintf(stderr, "oom: 4 threads       %8ld allocations before failure (%.2f s)\n", tot, now_s() - t0);
    }
}

static int run_oom(void) {
    struct rlimit rl;
    getrlimit(RLIMIT_AS, &rl);
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)4 << 30) {
        fprintf(stderr, "faults oom: refusing to run without an address-space limit <= 4 GiB (ulimit -v)\n");
        return 2;
    }
    fprintf(stderr, "oom: RLIMIT_AS = %lu MiB\n", (unsigned long)(rl.rlim_cur >> 20));
    /* impossible requests first */
    errno = 0;
    CHECK(malloc(opaque(SIZE_MAX - 4096)) == NULL && errno == ENOMEM, "malloc(SIZE_MAX-4096)");
    errno = 0;
    CHECK(calloc(opaque(SIZE_MAX / 2), 4) == NULL && errno == ENOMEM, "calloc overflow");
    errno = 0;
    CHECK(malloc(opaque(rl.rlim_cur + (64 << 20))) == NULL && errno == ENOMEM, "malloc above the limit");
    errno = 0;
    void *q = (void *)0x5a5a;
    CHECK(posix_memalign(&q, 4096, opaque(rl.rlim_cur + (64 << 20))) == ENOMEM && q == (void *)0x5a5a,
          "posix_memalign above the limit");
    static const char *pname[] = {"malloc-small", "malloc-large", "calloc", "posix_memalign", "aligned_alloc",
                                  "memalign", "realloc-growth", "4-threads"};
    int bad_phases = 0;
    for (int phase = 0; phase <= A_MEMALIGN + 2; phase++) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            alarm(120);
            oom_phase(phase);
            _exit(atomic_load(&failures) ? 1 : 0);
        }
        CHECK(pid > 0, "fork");
        int st = 0;
        pid_t w;
        do w = waitpid(pid, &st, 0); while (w < 0 && errno == EINTR);
        if (w == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0) continue;
        bad_phases++;
        if (WIFSIGNALED(st))
            fprintf(stderr, "FAIL oom phase %s: killed by signal %d (%s)\n", pname[phase], WTERMSIG(st),
                    strsignal(WTERMSIG(st)));
        else
            fprintf(stderr, "FAIL oom phase %s: exit status %d\n", pname[phase], WEXITSTATUS(st));
    }
    CHECK(bad_phases == 0, "%d oom phases failed", bad_phases);
    return 0;
}

/* ----------------------------------------------------------------- fork -- */
#define FORK_THREADS 8
#define FORK_TOTAL 50
static atomic_int forks_started, forks_ok, fork_stop;
static atomic_long fork_ops;

typedef struct { unsigned char *p; size_t n; uint64_t seed; } rec;

static int child_work(rec *mine, int nmine) {
    alarm(20);
    int bad = 0;
    for (int i = 0; i < nmine; i++) {
        if (!mine[i].p) continue;
        if (check(mine[i].p, mine[i].n, mine[i].seed) != (size_t)-1) bad |= 1;
        free(mine[i].p);
    }
    for (int round = 0; round < 4; round++) {
        void *keep[300];
        for (int i = 0; i < 300; i++) {
            size_t n = i % 50 == 49 ? ((size_t)2 << 20) + i : (size_t)(1 + i * 29);
            keep[i] = i % 3 ? malloc(n) : calloc(1, n);
            if (!keep[i]) { bad |= 2; continue; }
            if (i % 3 == 0 && ((unsigned char *)keep[i])[n - 1]) bad |= 4;
            fill(keep[i], n, i + round);
        }
        for (int i = 0; i < 300; i++) {
            if (!keep[i]) continue;
            size_t n = i % 50 == 49 ? ((size_t)2 << 20) + i : (size_t)(1 + i * 29);
            if (check(keep[i], n, i + round) != (size_t)-1) bad |= 8;
            void *q = realloc(keep[i], n * 2 + 1);
            if (!q) { bad |= 16; free(keep[i]); continue; }
            if (check(q, n, i + round) != (size_t)-1) bad |= 32;
            free(q);
        }
    }
    pthread_t t;
    void *r = NULL;
    if (pthread_create(&t, NULL, malloc_thread, (void *)(uintptr_t)5000) != 0) bad |= 64;
    else { pthread_join(t, &r); if (!r) bad |= 128; free(r); }
    char *s = NULL;
    if (asprintf(&s, "child %d", (int)getpid()) < 0) bad |= 256;
    free(s);
    if (bad) fprintf(stderr, "child %d: failure bits %#x\n", (int)getpid(), bad);
    return bad ? 3 : 0;
}

static void *fork_worker(void *arg) {
    int id = (int)(intptr_t)arg;
    uint64_t s = mix(id + 1);
    enum { N = 48 };
    rec mine[N];
    memset(mine, 0, sizeof mine);
    while (!atomic_load(&fork_stop)) {
        for (int k = 0; k < 200; k++) {
            s = mix(s);
            int i = s % N;
            if (mine[i].p) {
                if (check(mine[i].p, mine[i].n, mine[i].seed) != (size_t)-1)
                    CHECK(0, "fork worker %d: block corrupted", id);
                free(mine[i].p);
                mine[i].p = NULL;
            } else {
                size_t n = (s >> 20) % 8 == 0 ? (s >> 24) % (600 << 10) + 1 : (s >> 24) % 3000 + 1;
                mine[i].p = malloc(n);
                CHECK(mine[i].p != NULL, "malloc");
                mine[i].n = n;
                mine[i].seed = s;
                if (mine[i].p) fill(mine[i].p, n, s);
            }
            atomic_fetch_add(&fork_ops, 1);
        }
        int f = atomic_fetch_add(&forks_started, 1);
        if (f >= FORK_TOTAL) { usleep(1000); continue; }
        pid_t pid = fork();
        if (pid == 0) _exit(child_work(mine, N));
        CHECK(pid > 0, "fork: %s", strerror(errno));
        if (pid < 0) continue;
        int st = 0;
        pid_t w;
        do w = waitpid(pid, &st, 0); while (w < 0 && errno == EINTR);
        if (w == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0) atomic_fetch_add(&forks_ok, 1);
        else if (w == pid && WIFSIGNALED(st))
            CHECK(0, "fork %d (thread %d): child killed by signal %d%s", f, id, WTERMSIG(st),
                  WTERMSIG(st) == SIGALRM ? " (hang: alarm after 20 s)" : "");
        else CHECK(0, "fork %d (thread %d): child exit status %d", f, id, WEXITSTATUS(st));
    }
    for (int i = 0; i < N; i++) free(mine[i].p);
    return NULL;
}

static int run_fork(void) {
    pthread_t th[FORK_THREADS];
    for (int i = 0; i < FORK_THREADS; i++)
        CHECK(pthread_create(&th[i], NULL, fork_worker, (void *)(intptr_t)i) == 0, "pthread_create");
    double t0 = now_s();
    while (atomic_load(&forks_started) < FORK_TOTAL + FORK_THREADS && now_s() - t0 < 240) usleep(10000);
    atomic_store(&fork_stop, 1);
    for (int i = 0; i < FORK_THREADS; i++) pthread_join(th[i], NULL);
    fprintf(stderr, "fork: %d/%d children exited 0, %ld worker ops, %.1f s\n", atomic_load(&forks_ok), FORK_TOTAL,
            atomic_load(&fork_ops), now_s() - t0);
    CHECK(atomic_load(&forks_ok) == FORK_TOTAL, "%d of %d children failed", FORK_TOTAL - atomic_load(&forks_ok),
          FORK_TOTAL);
    return 0;
}

/* ---------------------------------------------------------------- churn -- */
#define WAVES 50
#define PER_WAVE 100
static rec handed[PER_WAVE][4];

static void *churn_thread(void *arg) {
    int k = (int)(intptr_t)arg;
    uint64_t s = mix(k * 7 + 3);
    void *local[64];
    for (int i = 0; i < 64; i++) {
        s = mix(s);
        size_t n = i % 16 == 15 ? (s % (200 << 10)) + 1 : s % 2048 + 1;
        local[i] = malloc(n);
        CHECK(local[i] != NULL, "malloc");
        if (local[i]) memset(local[i], k, n);
    }
    for (int i = 0; i < 64; i += 2) free(local[i]);
    for (int i = 1; i < 64; i += 2) free(local[i]);
    for (int j = 0; j < 4; j++) { /* handed to the main thread, freed after we are gone */
        s = mix(s);
        size_t n = j == 3 ? (s % (1 << 20)) + 1 : s % 4000 + 1;
        rec *r = &handed[k % PER_WAVE][j];
        r->p = malloc(n);
        r->n = n;
        r->seed = s;
        CHECK(r->p != NULL, "malloc");
        if (r->p) fill(r->p, n, s);
    }
    return NULL;
}

static int run_churn(void) {
    long peak = 0, first = -1;
    double t0 = now_s();
    int created = 0;
    for (int w = 0; w < WAVES; w++) {
        pthread_t th[PER_WAVE];
        int ok[PER_WAVE];
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setstacksize(&at, 256 << 10);
        for (int i = 0; i < PER_WAVE; i++) {
            ok[i] = pthread_create(&th[i], &at, churn_thread, (void *)(intptr_t)(w * PER_WAVE + i)) == 0;
            CHECK(ok[i], "pthread_create wave %d thread %d", w, i);
            created += ok[i];
        }
        pthread_attr_destroy(&at);
        for (int i = 0; i < PER_WAVE; i++) if (ok[i]) pthread_join(th[i], NULL);
        for (int i = 0; i < PER_WAVE; i++)
            for (int j = 0; j < 4; j++) {
                rec *r = &handed[i][j];
                if (!r->p) continue;
                CHECK(check(r->p, r->n, r->seed) == (size_t)-1, "handed block corrupted (wave %d)", w);
                free(r->p);
                r->p = NULL;
            }
        long rss = rss_mib();
        if (first < 0) first = rss;
        if (rss > peak) peak = rss;
    }
    fprintf(stderr, "churn: %d threads in %d waves, RSS after wave 1 %ld MiB, peak %ld MiB, end %ld MiB, %.1f s\n",
            created, WAVES, first, peak, rss_mib(), now_s() - t0);
    CHECK(created == WAVES * PER_WAVE, "created %d threads", created);
    CHECK(peak < 256, "RSS peak %ld MiB >= 256 MiB", peak);
    return 0;
}

/* -------------------------------------------------------------- signals -- */
static atomic_long sig_alrm, sig_prof, sig_in_worker;
static _Thread_local int is_worker;
static atomic_int sig_stop;
static void on_signal(int sig) {
    int e = errno; /* async-signal-safe: atomics only */
    if (sig == SIGALRM) atomic_fetch_add_explicit(&sig_alrm, 1, memory_order_relaxed);
    else atomic_fetch_add_explicit(&sig_prof, 1, memory_order_relaxed);
    if (is_worker) atomic_fetch_add_explicit(&sig_in_worker, 1, memory_order_relaxed);
    errno = e;
}
static atomic_long sig_ops;
static void *sig_worker(void *arg) {
    int id = (int)(intptr_t)arg;
    is_worker = 1;
    enum { N = 256 };
    rec *r = calloc(N, sizeof *r);
    CHECK(r != NULL, "calloc");
    if (!r) return NULL;
    uint64_t s = mix(id + 99);
    long ops = 0;
    while (!atomic_load(&sig_stop)) {
        s = mix(s);
        int i = s % N;
        if (r[i].p) {
            size_t at = check(r[i].p, r[i].n, r[i].seed);
            CHECK(at == (size_t)-1, "signals: block %zu bytes corrupted at %zu", r[i].n, at);
            if ((s >> 9) % 3 == 0) {
                size_t m = (s >> 13) % 70000 + 1;
                unsigned char *q = realloc(r[i].p, m);
                CHECK(q != NULL, "realloc");
                if (q) {
                    size_t keep = m < r[i].n ? m : r[i].n;
                    CHECK(check_prefix(q, keep, r[i].n, r[i].seed) == (size_t)-1, "signals: realloc lost data");
                    fill(q, m, r[i].seed);
                    r[i].p = q;
                    r[i].n = m;
                }
            } else {
                free(r[i].p);
                r[i].p = NULL;
            }
        } else {
            size_t n = (s >> 7) % 16 == 0 ? (s >> 20) % (2 << 20) + 1 : (s >> 20) % 1500 + 1;
            unsigned char *p;
            if ((s >> 5) % 4 == 0) {
                p = calloc(1, n);
                if (p) CHECK(p[0] == 0 && p[n - 1] == 0 && p[n / 2] == 0, "calloc not zero");
            } else if ((s >> 5) % 4 == 1) {
                p = aligned_alloc(64, (n + 63) & ~(size_t)63);
                n = (n + 63) & ~(size_t)63;
                if (p) CHECK(((uintptr_t)p & 63) == 0, "aligned_alloc alignment");
            } else {
                p = malloc(n);
            }
            CHECK(p != NULL, "allocation of %zu failed", n);
            if (p) { fill(p, n, s); r[i] = (rec){p, n, s}; }
        }
        ops++;
    }
    for (int i = 0; i < N; i++) {
        if (r[i].p) CHECK(check(r[i].p, r[i].n, r[i].seed) == (size_t)-1, "final check");
        free(r[i].p);
    }
    free(r);
    atomic_fetch_add(&sig_ops, ops);
    return NULL;
}

static int run_signals(double secs) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGPROF, &sa, NULL);
    /* the main thread blocks both, so the kernel delivers them to workers */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    sigaddset(&set, SIGPROF);
    enum { NT = 4 };
    pthread_t th[NT];
    for (int i = 0; i < NT; i++)
        CHECK(pthread_create(&th[i], NULL, sig_worker, (void *)(intptr_t)i) == 0, "pthread_create");
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct itimerval it = {{0, 100}, {0, 100}};
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer REAL");
    CHECK(setitimer(ITIMER_PROF, &it, NULL) == 0, "setitimer PROF");
    double t0 = now_s();
    while (now_s() - t0 < secs) usleep(20000);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    setitimer(ITIMER_PROF, &off, NULL);
    atomic_store(&sig_stop, 1);
    for (int i = 0; i < NT; i++) pthread_join(th[i], NULL);
    fprintf(stderr, "signals: %ld SIGALRM + %ld SIGPROF (%ld in workers) during %ld allocation ops, %.1f s\n",
            atomic_load(&sig_alrm), atomic_load(&sig_prof), atomic_load(&sig_in_worker), atomic_load(&sig_ops),
            now_s() - t0);
    CHECK(atomic_load(&sig_alrm) >= 1000, "only %ld SIGALRM delivered", atomic_load(&sig_alrm));
    CHECK(atomic_load(&sig_in_worker) >= 1000, "only %ld signals interrupted the workers", atomic_load(&sig_in_worker));
    CHECK(atomic_load(&sig_ops) >= 10000, "only %ld operations", atomic_load(&sig_ops));
    return 0;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    int rc;
    if (!strcmp(mode, "oom")) rc = run_oom();
    else if (!strcmp(mode, "fork")) rc = run_fork();
    else if (!strcmp(mode, "churn")) rc = run_churn();
    else if (!strcmp(mode, "signals")) rc = run_signals(argc > 2 ? atof(argv[2]) : 3.0);
    else {
        fprintf(stderr, "usage: faults oom|fork|churn|signals [seconds]\n");
        return 2;
    }
    if (rc) return rc;
    fprintf(stderr, "faults %s: %ld checks, %d failed\n", mode, atomic_load(&checks), atomic_load(&failures));
    return atomic_load(&failures) ? 1 : 0;
}
