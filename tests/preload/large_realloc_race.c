// large_realloc_race.c -- regression test for a race found by the reliability soak:
// realloc of a Large block that moves its pages (mremap) cleared the segment map of
// the old address range *after* the move, by which time another thread could have
// mapped a new Large block there; that block then looked foreign and the next
// free/realloc aborted with "pointer not allocated by hakmem". Threads here grow
// Large blocks by realloc (moves) while others allocate and free Large blocks, and
// check every block with malloc_usable_size and realloc/free.
#include "check.h"
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile int stop;

static uint64_t next_rand(uint64_t *s) { *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17; return *s; }

static void *grower(void *arg) {
    uint64_t seed = (uintptr_t)arg * 0x9E3779B97F4A7C15ull + 1;
    while (!stop) {
        size_t size = (2u << 20) + next_rand(&seed) % (6u << 20);
        char *p = (next_rand(&seed) & 1) ? aligned_alloc(256 * 1024, size) : malloc(size);
        CHECK(p != NULL, "allocation of %zu failed", size);
        if (!p) continue;
        p[0] = 'a'; p[size - 1] = 'z';
        // a blocker right after, so growing in place is less likely and the block moves
        char *blocker = malloc(2u << 20);
        char *q = realloc(p, size * 3);
        CHECK(q != NULL, "realloc to %zu failed", size * 3);
        if (!q) { free(blocker); continue; }
        CHECK(q[0] == 'a' && q[size - 1] == 'z', "realloc lost contents");
        CHECK(malloc_usable_size(q) >= size * 3, "usable size too small");
        free(blocker);
        free(q);
    }
    return NULL;
}

static void *churner(void *arg) {
    uint64_t seed = (uintptr_t)arg + 77;
    while (!stop) {
        size_t size = (1u << 20) + next_rand(&seed) % (12u << 20);
        char *p = malloc(size);
        CHECK(p != NULL, "allocation of %zu failed", size);
        if (!p) continue;
        p[size / 2] = 1;
        CHECK(malloc_usable_size(p) >= size, "usable size too small");
        free(p);
    }
    return NULL;
}

int main(int argc, char **argv) {
    check_allocator();
    double seconds = argc > 1 ? atof(argv[1]) : 3.0;
    pthread_t t[6];
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, grower, (void *)(uintptr_t)(i + 1));
    for (int i = 3; i < 6; i++) pthread_create(&t[i], NULL, churner, (void *)(uintptr_t)(i + 1));
    struct timespec ts = { (time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9) };
    nanosleep(&ts, NULL);
    stop = 1;
    for (int i = 0; i < 6; i++) pthread_join(t[i], NULL);
    return check_finish("large_realloc_race");
}
