// exports.c -- the C-named entry points of libhakmem.so.
//
// Swift may not define `malloc`/`free` itself (reserved for its runtime) and
// would give them PROTECTED visibility; these default-visibility wrappers
// forward to the hak_* functions in Swift, and full LTO turns each into the
// Swift body (or a single jmp). The linker version script exports.map makes
// these the only symbols the library exports.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <malloc.h>
#include "hakmem.h"

#define EXPORT __attribute__((visibility("default")))

void *hak_malloc(size_t size);
void hak_free(void *p);
void *hak_calloc(size_t count, size_t size);
void *hak_realloc(void *p, size_t size);
void *hak_reallocarray(void *p, size_t count, size_t size);
int hak_posix_memalign(void **out, size_t alignment, size_t size);
void *hak_aligned_alloc(size_t alignment, size_t size);
void *hak_memalign(size_t alignment, size_t size);
void *hak_valloc(size_t size);
void *hak_pvalloc(size_t size);
size_t hak_malloc_usable_size(void *p);
void hak_free_sized(void *p, size_t size);
void hak_free_aligned_sized(void *p, size_t alignment, size_t size);
int hak_malloc_trim(size_t pad);
size_t hak_mapped_bytes(void);

EXPORT void *malloc(size_t size) { return hak_malloc(size); }
EXPORT void free(void *p) { hak_free(p); }
EXPORT void *calloc(size_t count, size_t size) { return hak_calloc(count, size); }
EXPORT void *realloc(void *p, size_t size) { return hak_realloc(p, size); }
EXPORT void *reallocarray(void *p, size_t count, size_t size) { return hak_reallocarray(p, count, size); }
EXPORT int posix_memalign(void **out, size_t alignment, size_t size) { return hak_posix_memalign(out, alignment, size); }
EXPORT void *aligned_alloc(size_t alignment, size_t size) { return hak_aligned_alloc(alignment, size); }
EXPORT void *memalign(size_t alignment, size_t size) { return hak_memalign(alignment, size); }
EXPORT void *valloc(size_t size) { return hak_valloc(size); }
EXPORT void *pvalloc(size_t size) { return hak_pvalloc(size); }
EXPORT size_t malloc_usable_size(void *p) { return hak_malloc_usable_size(p); }
EXPORT void free_sized(void *p, size_t size) { hak_free_sized(p, size); }
EXPORT void free_aligned_sized(void *p, size_t alignment, size_t size) { hak_free_aligned_sized(p, alignment, size); }
EXPORT void cfree(void *p) { hak_free(p); }

// C++ sized deallocation: libstdc++'s versions only call free; ours let checked mode
// verify the size (operator delete(void*, size_t), the array and aligned forms).
EXPORT void _ZdlPvm(void *p, size_t size) { hak_free_sized(p, size); }
EXPORT void _ZdaPvm(void *p, size_t size) { hak_free_sized(p, size); }
EXPORT void _ZdlPvmSt11align_val_t(void *p, size_t size, size_t alignment) { hak_free_aligned_sized(p, alignment, size); }
EXPORT void _ZdaPvmSt11align_val_t(void *p, size_t size, size_t alignment) { hak_free_aligned_sized(p, alignment, size); }

// glibc-internal names some programs and libraries call directly.
EXPORT void *__libc_malloc(size_t size) { return hak_malloc(size); }
EXPORT void __libc_free(void *p) { hak_free(p); }
EXPORT void *__libc_calloc(size_t count, size_t size) { return hak_calloc(count, size); }
EXPORT void *__libc_realloc(void *p, size_t size) { return hak_realloc(p, size); }
EXPORT void *__libc_memalign(size_t alignment, size_t size) { return hak_memalign(alignment, size); }
EXPORT void *__libc_valloc(size_t size) { return hak_valloc(size); }
EXPORT void *__libc_pvalloc(size_t size) { return hak_pvalloc(size); }

// glibc malloc-introspection API: answered for hakmem's heap, not glibc's.
EXPORT int malloc_trim(size_t pad) { return hak_malloc_trim(pad); }
/// Tuning knobs of glibc's allocator do not apply; accepted and ignored.
EXPORT int mallopt(int param, int value) { (void)param; (void)value; return 1; }
EXPORT struct mallinfo2 mallinfo2(void) {
    struct mallinfo2 info;
    memset(&info, 0, sizeof info);
    info.arena = hak_mapped_bytes();
    return info;
}
EXPORT struct mallinfo mallinfo(void) {
    struct mallinfo info;
    memset(&info, 0, sizeof info);
    info.arena = (int)hak_mapped_bytes();
    return info;
}
EXPORT void malloc_stats(void) {
    fprintf(stderr, "hakmem: %zu bytes mapped\n", hak_mapped_bytes());
}
