// sites.c -- the call-site API from C, linked directly (no preload) through
// pkg-config. Checks malloc itself resolves into libhakmem (direct linking replaces
// malloc too), exercises every hak_*_at function, then prints the stats table for
// run.sh to parse: site 0x1234 must show 300 allocs, 100 frees, 200*5120 live bytes.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hakmem.h>

int main(void) {
    Dl_info info;
    if (!dladdr((void *)malloc, &info) || !strstr(info.dli_fname, "libhakmem")) {
        fprintf(stderr, "malloc is not hakmem's: %s\n", info.dli_fname ? info.dli_fname : "?");
        return 1;
    }
    void *p[300];
    for (int i = 0; i < 300; i++) p[i] = hak_alloc_at(5000, 0x1234);
    for (int i = 0; i < 100; i++) hak_free_at(p[i], 0x1234);
    for (int i = 100; i < 300; i++) memset(p[i], 1, 5000);
    // calloc/realloc/aligned variants on another site, all freed: live 0.
    char *c = hak_calloc_at(10, 10, 0x99);
    for (int i = 0; i < 100; i++) if (c[i]) return 2;
    c = hak_realloc_at(c, 100000, 0x99);
    void *a = hak_aligned_alloc_at(4096, 100, 0x99);
    if (((uintptr_t)a & 4095) != 0) return 3;
    hak_free_at(c, 0x99);
    hak_free_at(a, 0x99);
    void *here = hak_alloc_at(64, HAK_SITE_HERE);
    free(here);   // plain free of a site block is allowed (counted to no site)
    hak_stats_print();
    return 0;
}
