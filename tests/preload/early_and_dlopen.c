/*
 * early_and_dlopen.c - allocation before main, across dlopen, after main.
 *
 *  - constructor(101) allocates and frees before main (before most of libc's
 *    own initialisation in this program); one block stays alive and is
 *    verified/freed in main;
 *  - dlopen() of libdlhelper.so (path: argv[1], default: next to this
 *    executable) whose constructor mallocs; blocks allocated by the helper
 *    are freed by main and vice versa, also realloc across the boundary;
 *    dlclose runs the helper's destructor (a free);
 *  - an atexit handler and a destructor allocate and free after main
 *    returned; a failure there exits with status 1.
 * Why: an allocator that initialises lazily must work on the very first call
 * (from a constructor, from the dynamic loader) and after teardown started.
 */
#include "check.h"
#include <limits.h>

static char *early_block;
static int early_ok = 1;

__attribute__((constructor(101))) static void early(void) {
    void *p = malloc(10);
    if (!p) early_ok = 0;
    else memset(p, 1, 10);
    free(p);
    char *s = strdup("allocated before main");
    if (!s || strcmp(s, "allocated before main") != 0) early_ok = 0;
    free(s);
    void *c = calloc(100, 100);
    if (!c || first_not(c, 10000, 0) != (size_t)-1) early_ok = 0;
    free(c);
    void *a = aligned_alloc(4096, 4096);
    if (!a || !is_aligned(a, 4096)) early_ok = 0;
    free(a);
    early_block = malloc(777);
    if (early_block) pat_fill(early_block, 777, 101);
}

static char *late_block;

static void at_exit_handler(void) {
    /* runs after main returned */
    if (!late_block || pat_check(late_block, 5000, 55) != (size_t)-1) {
        fprintf(stderr, "FAIL atexit: block allocated in main corrupted\n");
        _exit(1);
    }
    free(late_block);
    void *p = malloc(123456);
    if (!p) { fprintf(stderr, "FAIL atexit: malloc failed\n"); _exit(1); }
    memset(p, 2, 123456);
    free(p);
}

__attribute__((destructor(101))) static void late(void) {
    void *p = malloc(64);
    if (!p) { fprintf(stderr, "FAIL destructor: malloc failed\n"); _exit(1); }
    memset(p, 3, 64);
    free(p);
}

int main(int argc, char **argv) {
    check_allocator();
    CHECK(early_ok, "allocation in constructor(101) failed");
    CHECK(early_block && pat_check(early_block, 777, 101) == (size_t)-1,
          "block from constructor corrupted");
    free(early_block);

    char path[PATH_MAX];
    if (argc > 1) {
        snprintf(path, sizeof path, "%s", argv[1]);
    } else {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
        if (n < 0) n = 0;
        path[n] = 0;
        char *slash = strrchr(path, '/');
        strcpy(slash ? slash + 1 : path, "libdlhelper.so");
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    CHECK(h != NULL, "dlopen(%s) failed: %s", path, dlerror());
    if (h) {
        int (*ctor_ok)(void) = (int (*)(void))dlsym(h, "helper_ctor_ok");
        void *(*halloc)(size_t, int) = (void *(*)(size_t, int))dlsym(h, "helper_alloc");
        void (*hfree)(void *) = (void (*)(void *))dlsym(h, "helper_free");
        void *(*hrealloc)(void *, size_t) = (void *(*)(void *, size_t))dlsym(h, "helper_realloc");
        CHECK(ctor_ok && halloc && hfree && hrealloc, "helper symbols missing");
        if (ctor_ok && halloc && hfree && hrealloc) {
            CHECK(ctor_ok(), "helper constructor's block corrupted or missing");
            for (size_t n = 1; n < (1u << 22); n = n * 5 + 3) {
                unsigned char *p = halloc(n, 0x21); /* helper allocates, main frees */
                CHECK(p && first_not(p, n, 0x21) == (size_t)-1, "helper_alloc(%zu) bad", n);
                free(p);
                p = malloc(n); /* main allocates, helper reallocs, helper frees */
                pat_fill(p, n, 9);
                unsigned char *q = hrealloc(p, n * 2);
                CHECK(q && pat_check(q, n, 9) == (size_t)-1, "realloc across dlopen lost data");
                hfree(q ? q : p);
            }
            CHECK(ctor_ok(), "helper constructor's block corrupted later");
        }
        CHECK(dlclose(h) == 0, "dlclose failed: %s", dlerror());
    }
    /* dlopen/dlclose repeatedly (the loader allocates link maps with malloc) */
    for (int i = 0; i < 50; i++) {
        void *h2 = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        CHECK(h2 != NULL, "dlopen #%d failed", i);
        if (h2) dlclose(h2);
    }
    late_block = malloc(5000);
    pat_fill(late_block, 5000, 55);
    atexit(at_exit_handler);
    return check_finish("early_and_dlopen");
}
