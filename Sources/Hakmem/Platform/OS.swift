// OS.swift -- the platform layer: every mmap/munmap/madvise/mremap/mprotect hakmem makes
// goes through here. Each function states its precondition and reports failure
// with nil/false, never by trapping.

import CHakmemShim

enum OS {
    /// Maps `size` bytes (a multiple of the OS page) of zeroed, read-write memory
    /// aligned to `alignment` (a power of two >= the OS page). Returns nil on failure.
    static func mapAligned(size: Int, alignment: Int) -> UnsafeMutableRawPointer? {
        if alignment <= Geometry.osPageSize { return map(size: size) }
        // The kernel tends to place a new mapping right below the previous one, so a
        // mapping of a multiple of the alignment (a segment) often comes out aligned:
        // one system call instead of two or three (mmap, then munmap of head and tail).
        if size & (alignment &- 1) == 0, let exact = map(size: size) {
            if UInt(bitPattern: exact) & UInt(alignment &- 1) == 0 { return exact }
            unmap(exact, size: size)
        }
        // Over-map by the alignment, then trim the misaligned head and the tail.
        let (total, overflow) = size.addingReportingOverflow(alignment)
        if overflow { return nil }
        guard let raw = map(size: total) else { return nil }
        let address = UInt(bitPattern: raw)
        let aligned = (address &+ UInt(alignment) &- 1) & ~(UInt(alignment) &- 1)
        let head = Int(aligned &- address)
        let tail = total &- head &- size
        if head > 0 { unmap(raw, size: head) }
        if tail > 0 { unmap(UnsafeMutableRawPointer(bitPattern: aligned &+ UInt(size))!, size: tail) }
        return UnsafeMutableRawPointer(bitPattern: aligned)
    }

    /// Maps `size` bytes of zeroed memory anywhere; nil on failure or if the kernel
    /// returned an address above the segment map's reach.
    static func map(size: Int) -> UnsafeMutableRawPointer? {
        let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let p, p != UnsafeMutableRawPointer(bitPattern: -1) else { return nil }
        if UInt(bitPattern: p) &+ UInt(size) > (1 << UInt(HAK_ADDRESS_BITS)) {
            unmap(p, size: size)
            return nil
        }
        return p
    }

    /// Unmaps a range previously returned by `map`/`mapAligned` (or part of one).
    static func unmap(_ p: UnsafeMutableRawPointer, size: Int) {
        _ = munmap(p, size)
    }

    /// Gives the physical pages of `[p, p+size)` back to the OS; the range stays
    /// mapped and reads as zero afterwards.
    static func purge(_ p: UnsafeMutableRawPointer, size: Int) {
        _ = madvise(p, size, MADV_DONTNEED)
    }

    /// Makes `[p, p+size)` (page-aligned, inside a mapping of ours) inaccessible, or
    /// read-write again if `accessible`; the pages and their contents stay. False on
    /// failure (e.g. ENOMEM: the process is at its limit of mappings, which a split of
    /// the range adds to); the protection is then unchanged.
    static func protect(_ p: UnsafeMutableRawPointer, size: Int, accessible: Bool) -> Bool {
        mprotect(p, size, accessible ? PROT_READ | PROT_WRITE : PROT_NONE) == 0
    }

    /// Grows or shrinks a mapping in place; nil if it cannot stay where it is.
    static func remapInPlace(_ p: UnsafeMutableRawPointer, from old: Int, to new: Int) -> Bool {
        hak_os_mremap(p, old, new, 0, nil) != nil
    }

    /// Moves the pages of a mapping to `target` (which must be a reserved range of
    /// `new` bytes) without copying; false on failure (the old mapping is intact).
    static func remapMove(_ p: UnsafeMutableRawPointer, from old: Int, to new: Int,
                          target: UnsafeMutableRawPointer) -> Bool {
        hak_os_mremap(p, old, new, HAK_MREMAP_MAYMOVE | HAK_MREMAP_FIXED, target) != nil
    }

    /// Coarse monotonic time (CLOCK_MONOTONIC_COARSE: one clock tick, a few ms, of
    /// resolution; cheap): purge and cache ages.
    static func nowNanoseconds() -> UInt64 { hak_os_now_ns() }

    /// Monotonic time at full resolution: for measuring short durations.
    static func preciseNanoseconds() -> UInt64 { hak_os_precise_ns() }

    static func setErrno(_ value: Int32) { hak_errno_set(value) }
}
