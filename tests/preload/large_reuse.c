/*
 * large_reuse.c - large blocks are reused / returned, not leaked.
 *
 *  - malloc + touch + free of 64 MiB, 200 times: RSS (/proc/self/statm) must
 *    stay < 256 MiB and the virtual size must not grow by anything close to
 *    200 x 64 MiB (a leak of unmapped-but-reserved blocks);
 *  - calloc of 64 MiB after the previous iteration dirtied a 64 MiB block:
 *    every touched byte must read 0 (reused large blocks must be re-zeroed);
 *  - mixed large sizes 1..16 MiB (+odd offsets), aligned large blocks and
 *    realloc'ed large blocks in the same loop, RSS bounded.
 * We touch one byte per 64 KiB (plus both ends) so a leak shows up as
 * >= 4 MiB of RSS per iteration while keeping page faults (run time) low.
 */
#include "check.h"

#define MiB ((size_t)1 << 20)
#define STRIDE 65536

static void touch(unsigned char *p, size_t n, unsigned char v) {
    for (size_t i = 0; i < n; i += STRIDE) p[i] = v;
    p[n - 1] = v;
}

int main(void) {
    check_allocator();
    long rss0 = rss_mib(), vm0 = vm_mib();
    long max_rss = rss0, max_vm = vm0;
    for (int i = 0; i < 200; i++) {
        size_t n = 64 * MiB;
        unsigned char *p = (i % 4 == 3) ? calloc(1, n) : malloc(n);
        CHECK(p != NULL, "iteration %d: alloc 64 MiB NULL", i);
        if (!p) break;
        if (i % 4 == 3) {
            int bad = 0;
            for (size_t j = 0; j < n && !bad; j += STRIDE) bad = p[j] != 0;
            bad |= p[n - 1] != 0;
            CHECK(!bad, "iteration %d: calloc(64 MiB) after dirty reuse not zero", i);
        }
        touch(p, n, (unsigned char)(i | 1));
        free(p);
        long r = rss_mib(), v = vm_mib();
        if (r > max_rss) max_rss = r;
        if (v > max_vm) max_vm = v;
    }
    CHECK(max_rss < 256, "64 MiB x 200 loop: max RSS %ld MiB (start %ld), expected < 256", max_rss,
          rss0);
    CHECK(max_vm - vm0 < 4096, "64 MiB x 200 loop: VM grew from %ld to %ld MiB (leak?)", vm0,
          max_vm);

    /* mixed sizes, aligned and realloc'ed large blocks */
    unsigned seed = 12345;
    for (int i = 0; i < 300; i++) {
        seed = seed * 1103515245u + 12345u;
        size_t n = (size_t)((seed >> 8) % (16 * MiB)) + MiB / 2 + (i & 15);
        unsigned char *p;
        switch (i % 3) {
        case 0: p = malloc(n); break;
        case 1: p = aligned_alloc(1 << (12 + i % 10), n); break;
        default: {
            p = malloc(n / 4);
            if (p) { touch(p, n / 4, 9); p = realloc(p, n); }
        }
        }
        CHECK(p != NULL, "mixed iteration %d: alloc %zu NULL", i, n);
        if (!p) continue;
        touch(p, n, 7);
        free(p);
        long r = rss_mib();
        if (r > max_rss) max_rss = r;
    }
    CHECK(max_rss < 256, "mixed large loop: max RSS %ld MiB, expected < 256", max_rss);
    long vm1 = vm_mib();
    CHECK(vm1 - vm0 < 4096, "mixed large loop: VM grew from %ld to %ld MiB", vm0, vm1);
    fprintf(stderr, "large_reuse: rss start %ld max %ld MiB, vm start %ld end %ld MiB\n", rss0,
            max_rss, vm0, vm1);
    return check_finish("large_reuse");
}
