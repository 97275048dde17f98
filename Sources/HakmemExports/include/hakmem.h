/* hakmem.h -- hakmem's own API, beyond the standard malloc family it replaces.
 *
 * Link with `pkg-config --cflags --libs hakmem` (or preload libhakmem.so). From Swift,
 * import the `Hakmem` module installed next to this header (module.modulemap).
 *
 * Call-site API: allocate and free with a *site id* -- any number except UINTPTR_MAX
 * that names where the allocation comes from: a return address, a hash of file and
 * line (HAK_SITE_HERE below), or a value of your own. hakmem counts per site:
 * allocations, frees, live bytes, peak live bytes, and a histogram by tier. Free a
 * block with the site id it was allocated with. Blocks from these functions are
 * ordinary hakmem blocks: free(), realloc() and malloc_usable_size() accept them.
 * Live bytes are counted in usable bytes (malloc_usable_size).
 *
 * The site table is printed by hak_stats_print() and, with HAKMEM_STATS=1, at exit;
 * with HAKMEM_STATS=1 plain malloc/free are counted too, under "malloc (implicit)".
 */
#ifndef HAKMEM_H
#define HAKMEM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void *hak_alloc_at(size_t size, uintptr_t site_id);
void *hak_calloc_at(size_t count, size_t size, uintptr_t site_id);
void *hak_realloc_at(void *ptr, size_t size, uintptr_t site_id);
void *hak_aligned_alloc_at(size_t alignment, size_t size, uintptr_t site_id);
void hak_free_at(void *ptr, uintptr_t site_id);

/* Prints statistics (see docs/configuration.md for the columns) to stderr. */
void hak_stats_print(void);

/* A site id for the current file and line (FNV-1a of __FILE__, mixed with __LINE__). */
static inline uintptr_t hak_site_hash(const char *file, unsigned line) {
    uint64_t h = 1469598103934665603ull;
    while (*file) { h ^= (unsigned char)*file++; h *= 1099511628211ull; }
    h ^= line;
    h *= 1099511628211ull;
    return (uintptr_t)(h == UINTPTR_MAX ? 0 : h);
}
#define HAK_SITE_HERE hak_site_hash(__FILE__, __LINE__)
/* The caller's return address as a site id (GCC/Clang). */
#define HAK_SITE_CALLER ((uintptr_t)__builtin_return_address(0))

#ifdef __cplusplus
}
#endif
#endif /* HAKMEM_H */
