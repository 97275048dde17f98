/*
 * dl_helper.c - shared object dlopen()ed by early_and_dlopen.c (built by
 * run.sh as libdlhelper.so). It allocates in its constructor, hands blocks
 * to the main program and frees blocks the main program allocated, so
 * memory crosses the dlopen boundary in both directions.
 */
#include <stdlib.h>
#include <string.h>

static char *ctor_block;

__attribute__((constructor)) static void helper_ctor(void) {
    ctor_block = malloc(1000);
    if (ctor_block) memset(ctor_block, 0x4d, 1000);
}

__attribute__((destructor)) static void helper_dtor(void) {
    free(ctor_block);
    ctor_block = NULL;
}

/* returns 1 if the constructor's block is intact */
int helper_ctor_ok(void) {
    if (!ctor_block) return 0;
    for (int i = 0; i < 1000; i++)
        if (ctor_block[i] != 0x4d) return 0;
    return 1;
}

void *helper_alloc(size_t n, int c) {
    void *p = malloc(n);
    if (p) memset(p, c, n);
    return p;
}

void helper_free(void *p) { free(p); }

void *helper_realloc(void *p, size_t n) { return realloc(p, n); }
