/*
 * fork_threads.c - fork() while other threads are allocating.
 *
 * The parent starts 4 threads that malloc/realloc/free continuously (and
 * publish some finished blocks in a lock-free table), then forks 20 times
 * while they run. Each child:
 *   - takes over and verifies/frees the blocks the (now absent) worker
 *     threads had published, and blocks the parent's main thread allocated
 *     just before fork (freeing memory owned by threads that do not exist in
 *     the child);
 *   - allocates small and large blocks many times, checking contents;
 *   - creates a thread that allocates too, joins it;
 *   - prints through stdio (which mallocs) and exits with exit(0) (atexit).
 * The parent asserts every child's exit status is 0. An allocator that does
 * not reset its locks in a fork handler deadlocks in the child: alarm()
 * timers (child 10 s, parent 40 s) turn a hang into a failure.
 */
#include "check.h"
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#define NWORK 4
#define PUB 64
#define NFORK 20

static atomic_int stop_flag;
static _Atomic(unsigned char *) published[NWORK][PUB]; /* block whose first byte is its length code */
static atomic_long work_ops;

/* a published block: size (4 + k*37), byte i = (unsigned char)(k + i) after a 4-byte size header */
static unsigned char *make_block(size_t k) {
    size_t n = 4 + k * 37;
    unsigned char *p = malloc(n);
    if (!p) return NULL;
    uint32_t n32 = (uint32_t)n;
    memcpy(p, &n32, 4);
    for (size_t i = 4; i < n; i++) p[i] = (unsigned char)(k + i);
    return p;
}
static int check_block(unsigned char *p) {
    uint32_t n;
    memcpy(&n, p, 4);
    if (n < 4 || (n - 4) % 37) return 0;
    size_t k = (n - 4) / 37;
    for (size_t i = 4; i < n; i++)
        if (p[i] != (unsigned char)(k + i)) return 0;
    return 1;
}

static void *worker(void *arg) {
    int id = (int)(intptr_t)arg;
    uint64_t s = 88172645463325252ull + id;
    void *local[32] = {0};
    while (!atomic_load(&stop_flag)) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        int i = s % 32;
        if (local[i]) {
            free(local[i]);
            local[i] = NULL;
        } else {
            size_t n = (s >> 8) % 3 == 0 ? (s >> 16) % 300000 : (s >> 16) % 2000;
            local[i] = malloc(n + 1);
            if (local[i]) memset(local[i], id, n + 1);
            if ((s >> 40) % 4 == 0 && local[i]) local[i] = realloc(local[i], n / 2 + 1);
        }
        /* publish a fully written block; the previous occupant is freed */
        unsigned char *b = make_block((s >> 20) % 200);
        unsigned char *old = atomic_exchange(&published[id][(s >> 30) % PUB], b);
        if (old) free(old);
        atomic_fetch_add(&work_ops, 1);
    }
    for (int i = 0; i < 32; i++) free(local[i]);
    return NULL;
}

static void *child_thread(void *arg) {
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        size_t n = 1 + (i * 7919) % 5000;
        unsigned char *p = malloc(n);
        if (!p) return (void *)1;
        memset(p, i & 0xff, n);
        if (first_not(p, n, i & 0xff) != (size_t)-1) return (void *)2;
        free(p);
    }
    void *big = malloc(8 << 20);
    if (!big) return (void *)3;
    memset(big, 3, 8 << 20);
    free(big);
    return NULL;
}

static int child_main(unsigned char **pre, int npre) {
    alarm(10);
    int bad = 0;
    /* blocks published by workers that do not exist here */
    int taken = 0;
    for (int t = 0; t < NWORK; t++)
        for (int j = 0; j < PUB; j++) {
            unsigned char *p = atomic_exchange(&published[t][j], NULL);
            if (!p) continue;
            if (!check_block(p)) bad |= 1;
            free(p);
            taken++;
        }
    for (int i = 0; i < npre; i++) {
        if (!check_block(pre[i])) bad |= 2;
        free(pre[i]);
    }
    /* small and large, many times */
    void *keep[200];
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 200; i++) {
            size_t n = (i % 10 == 9) ? (size_t)(1 << 20) + i * 4096 : (size_t)(i * 13 + 1);
            keep[i] = malloc(n);
            if (!keep[i]) { bad |= 4; continue; }
            memset(keep[i], (i + round) & 0xff, n < 4096 ? n : 4096);
        }
        for (int i = 0; i < 200; i++) {
            if (!keep[i]) continue;
            size_t n = (i % 10 == 9) ? (size_t)(1 << 20) + i * 4096 : (size_t)(i * 13 + 1);
            if (first_not(keep[i], n < 4096 ? n : 4096, (i + round) & 0xff) != (size_t)-1) bad |= 8;
            free(keep[i]);
        }
    }
    void *cz = calloc(1000, 100);
    if (!cz || first_not(cz, 100000, 0) != (size_t)-1) bad |= 16;
    free(cz);
    pthread_t th;
    void *ret = (void *)-1;
    if (pthread_create(&th, NULL, child_thread, NULL) != 0) bad |= 32;
    else if (pthread_join(th, &ret) != 0 || ret != NULL) bad |= 64;
    char *s = NULL;
    if (asprintf(&s, "child %d took %d blocks", (int)getpid(), taken) < 0) bad |= 128;
    free(s);
    if (bad) fprintf(stderr, "child %d: failure bits %#x\n", (int)getpid(), bad);
    return bad ? 3 : 0;
}

int main(void) {
    check_allocator();
    alarm(40);
    pthread_t th[NWORK];
    for (int i = 0; i < NWORK; i++)
        CHECK(pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i) == 0, "pthread_create");
    while (atomic_load(&work_ops) < 1000) usleep(1000);

    int ok_children = 0;
    for (int f = 0; f < NFORK; f++) {
        unsigned char *pre[16];
        for (int i = 0; i < 16; i++) pre[i] = make_block(f * 16 + i);
        fflush(stderr);
        pid_t pid = fork();
        CHECK(pid >= 0, "fork failed: %s", strerror(errno));
        if (pid == 0) exit(child_main(pre, 16));
        for (int i = 0; i < 16; i++) free(pre[i]);
        int st = 0;
        pid_t w;
        do w = waitpid(pid, &st, 0); while (w < 0 && errno == EINTR);
        CHECK(w == pid, "waitpid failed");
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            ok_children++;
        } else if (WIFSIGNALED(st)) {
            CHECK(0, "fork #%d: child killed by signal %d%s", f, WTERMSIG(st),
                  WTERMSIG(st) == SIGALRM ? " (deadlock: alarm after 10 s)" : "");
        } else {
            CHECK(0, "fork #%d: child exit status %d", f, WEXITSTATUS(st));
        }
        usleep(20000); /* let the workers run between forks */
    }
    atomic_store(&stop_flag, 1);
    for (int i = 0; i < NWORK; i++) pthread_join(th[i], NULL);
    for (int t = 0; t < NWORK; t++)
        for (int j = 0; j < PUB; j++) {
            unsigned char *p = atomic_exchange(&published[t][j], NULL);
            if (p) {
                CHECK(check_block(p), "published block corrupted in parent");
                free(p);
            }
        }
    fprintf(stderr, "fork_threads: %d/%d children ok, %ld worker ops\n", ok_children, NFORK,
            atomic_load(&work_ops));
    CHECK(ok_children == NFORK, "%d of %d children failed", NFORK - ok_children, NFORK);
    return check_finish("fork_threads");
}
