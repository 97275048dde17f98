// hakmem_shim.h -- the thin C layer under the Swift allocator.
//
// Holds only what Swift cannot express directly:
//   * initial-exec thread-local slots and their always-inline accessors
//     (one `mov %fs:...` each after inlining),
//   * the process-wide segment map in .bss,
//   * syscall / errno glue.
// Everything else -- data structures, policies, checks -- lives in Swift.
#ifndef HAKMEM_SHIM_H
#define HAKMEM_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
#include <pthread.h>
#include <time.h>
#include <stdlib.h>

#pragma clang assume_nonnull begin

#define HAK_IE __attribute__((tls_model("initial-exec"), visibility("hidden")))
#define HAK_HIDDEN __attribute__((visibility("hidden")))
#define HAK_INLINE static inline __attribute__((always_inline))

/// Direct slots for Tiny requests: one per 16-byte step of request size 0...1024.
#define HAK_DIRECT_TINY_SLOTS 65
/// All direct slots: the Tiny ones, then one per 128-byte step of Mid request sizes
/// 1025...32768 (granules 9...256 of (size + 127) >> 7).
#define HAK_DIRECT_SLOTS (HAK_DIRECT_TINY_SLOTS + 248)

/// Address bits covered by the segment map (x86-64 user space is 47 bits).
#define HAK_ADDRESS_BITS 47
/// log2 of a segment (4 MiB): the granule of the segment map.
#define HAK_SEGMENT_SHIFT 22
#define HAK_SEGMAP_ENTRIES (1ul << (HAK_ADDRESS_BITS - HAK_SEGMENT_SHIFT))

/// Per-thread table: slot i < 65 points at the heap's bin (Swift `Bin`) that serves
/// requests of (i*16-15)...(i*16) bytes, slot 65 + g - 9 at the bin of Mid requests of
/// granule g = (size + 127) >> 7. Initialised to `hak_empty_bin`, whose count is 0, so
/// a thread's first malloc (and every malloc in checked and stats modes) falls into the
/// slow path without a NULL test.
extern __thread void *_Nullable hak_tls_direct[HAK_DIRECT_SLOTS] HAK_IE;
/// The calling thread's heap (Swift `Heap`), NULL until its first slow path.
extern __thread void *_Nullable hak_tls_heap HAK_IE;
/// The site id of the hak_*_at call in progress on this thread (0: none, i.e. the
/// implicit site). Read only on slow paths, with HAKMEM_STATS=1.
extern __thread uintptr_t hak_tls_site HAK_IE;

/// A zeroed, never written bin: its count (offset 0) is 0.
extern unsigned char hak_empty_bin[256] HAK_HIDDEN;
/// One byte per 4 MiB of address space (see Layout.swift, "Segment map").
/// In .bss: untouched parts cost no memory.
extern unsigned char hak_segmap[HAK_SEGMAP_ENTRIES] HAK_HIDDEN;

HAK_INLINE void *_Nullable *_Nonnull hak_tls_direct_slots(void) { return hak_tls_direct; }
HAK_INLINE void *_Nullable hak_tls_heap_get(void) { return hak_tls_heap; }
/// The heap pointer as a plain word (0 = none), for the free fast path's owner test.
HAK_INLINE uintptr_t hak_tls_heap_word(void) { return (uintptr_t)hak_tls_heap; }
HAK_INLINE void hak_tls_heap_set(void *_Nullable heap) { hak_tls_heap = heap; }
HAK_INLINE unsigned char *_Nonnull hak_segmap_base(void) { return hak_segmap; }
HAK_INLINE uintptr_t hak_tls_site_get(void) { return hak_tls_site; }
HAK_INLINE void hak_tls_site_set(uintptr_t site) { hak_tls_site = site; }
HAK_INLINE void *_Nonnull hak_empty_bin_address(void) { return hak_empty_bin; }

HAK_INLINE void hak_errno_set(int value) { errno = value; }

/// mremap is declared only under _GNU_SOURCE; wrapped in shim.c.
void *_Nullable hak_os_mremap(void *old, size_t old_size, size_t new_size, int flags, void *_Nullable new_address);
#define HAK_MREMAP_MAYMOVE 1
#define HAK_MREMAP_FIXED 2
/// Monotonic time in nanoseconds (vDSO, coarse clock: cheap, ~ms resolution).
uint64_t hak_os_now_ns(void);
/// Monotonic time in nanoseconds at full resolution (vDSO): for measuring short durations.
uint64_t hak_os_precise_ns(void);
/// Fills `buf` with `n` random bytes (getrandom; falls back to time and address bits).
void hak_os_random(void *buf, size_t n);
/// Writes all of `buf` to fd 2, retrying on EINTR; never allocates.
void hak_os_write_stderr(const void *buf, size_t n);
/// Reads an environment variable without allocating (NULL if unset); before libc
/// has set `environ`, from the initial environment (/proc/self/environ).
const char *_Nullable hak_os_getenv(const char *name);
/// Yields the CPU (sched_yield).
void hak_os_yield(void);
/// A spin-wait hint to the CPU (x86 `pause`, arm64 `yield`): a spinning core slows
/// down and leaves its sibling hyperthread the pipeline.
static inline void hak_cpu_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
/// Peak resident set size in bytes (VmHWM from /proc/self/status), 0 if unknown.
size_t hak_os_peak_rss(void);
/// The process environment (for warning about unknown HAKMEM_* variables); the
/// initial environment if libc has not set `environ` yet.
char *_Nullable *_Nullable hak_os_environ(void);
/// Runs `fn` at exit (atexit).
void hak_os_atexit(void (*fn)(void));

#pragma clang assume_nonnull end

#endif
