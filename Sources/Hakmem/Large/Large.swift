// Large.swift -- the Large tier: blocks above 1 MiB (or with alignment above
// 64 KiB) get a mapping of their own, with a SegmentHeader at its 4 MiB-aligned
// base and the block at base + max(4 KiB, alignment). Freed mappings wait in a
// small cache (bounded in bytes, expired after the purge delay) so that alloc/free
// cycles of large blocks do not fault their pages in again.
// Guarded mappings: a freed mapping enters the cache with the pages after its
// header's discarded (given back to the OS; they read as zero when reused) and
// PROT_NONE, so that a read or write through a stale pointer traps at once and the
// block's old contents never reach its next owner (glibc unmaps a large block at
// free, with the same effect; the header page stays readable, so a second free is
// still reported). Discarding and mprotect cost ~0.1 us per resident page on this
// kind of machine, and a reused discarded page faults in again, so guarding is
// rate-limited: after a guard or unguard taking t, the next free is guarded no
// earlier than `guardCostFactor * t` later (a few percent of the time at most). A
// program that frees large blocks now and then has every one guarded; one that
// cycles them fast has most cached as they are, as mimalloc, jemalloc and tcmalloc
// cache all of theirs.
// realloc grows with mremap, in place when the kernel can, else by moving the
// pages (no copy).

import CHakmemShim

enum Large {
    /// Cached (free) mappings, most recent first (under Locks.large).
    nonisolated(unsafe) static var cache: UnsafeMutablePointer<SegmentHeader>?
    nonisolated(unsafe) static var cachedBytes = 0
    /// Bytes mapped for live large blocks and the cache (statistics).
    nonisolated(unsafe) static var mappedBytes = 0
    /// Earliest time (OS.preciseNanoseconds) a freed mapping may be guarded again
    /// (under Locks.large).
    nonisolated(unsafe) static var nextGuardAt: UInt64 = 0
    /// Guarding waits this many times the duration of the last guard or unguard.
    static let guardCostFactor: UInt64 = 200

    @inline(__always)
    static func headerSpace(alignment: Int) -> Int {
        alignment > Geometry.osPageSize ? alignment : Geometry.osPageSize
    }

    @inline(__always)
    static func chunks(_ bytes: Int) -> Int {
        (bytes + Geometry.segmentSize - 1) >> Geometry.segmentShift
    }

    static func allocate(size: UInt, alignment: Int) -> UnsafeMutableRawPointer? {
        let offset = headerSpace(alignment: alignment)
        // At least one page: a zero-size request still gets a block to point into.
        let userBytes = size == 0 ? Geometry.osPageSize
                                  : (Int(size) + Geometry.osPageSize - 1) & ~(Geometry.osPageSize - 1)
        let total = offset + userBytes
        let mappingAlignment = alignment > Geometry.segmentSize ? alignment : Geometry.segmentSize
        var header = takeFromCache(total: total, alignment: mappingAlignment)
        if let cached = header, cached.pointee.isGuarded {
            cached.pointee.isGuarded = false
            if !guardBody(cached, accessible: true) {
                unmap(cached)
                header = nil
            }
        }
        if header == nil {
            guard let raw = OS.mapAligned(size: total, alignment: mappingAlignment) else {
                return Alloc.outOfMemory()
            }
            let h = raw.assumingMemoryBound(to: SegmentHeader.self)
            h.pointee = SegmentHeader(
                cookie: UInt(bitPattern: raw) ^ Secret.cookie, kind: SegmentKind.large,
                tableIndex: 0, next: nil, prev: nil,
                mappingSize: total, userBlock: nil, requested: 0, cachedAt: 0, isFreshZero: true,
                isGuarded: false)
            SpinLock.lock(Locks.large)
            mappedBytes &+= total
            SpinLock.unlock(Locks.large)
            Segments.markMap(raw, chunks: chunks(total), kind: SegmentKind.large)
            header = h
        }
        let h = header.unsafelyUnwrapped
        let block = UnsafeMutableRawPointer(h) + offset
        h.pointee.userBlock = block
        h.pointee.requested = Int(size)
        return block
    }

    /// A cached mapping of at least `total` bytes (and not much more), aligned to
    /// `alignment`; nil if none.
    static func takeFromCache(total: Int, alignment: Int) -> UnsafeMutablePointer<SegmentHeader>? {
        if cache == nil { return nil }
        SpinLock.lock(Locks.large)
        defer { SpinLock.unlock(Locks.large) }
        var candidate = cache
        while let h = candidate {
            candidate = h.pointee.next
            let size = h.pointee.mappingSize
            if size >= total && size - total <= total / 4 + Geometry.segmentSize
                && UInt(bitPattern: h) & UInt(alignment - 1) == 0 {
                unlinkCached(h)
                return h
            }
        }
        return nil
    }

    /// True if a mapping freed at `now` is to be guarded (see the top of this file);
    /// the caller then guards it, and guardBody sets the next time.
    static func mayGuard(now: UInt64) -> Bool {
        if now < nextGuardAt { return false }   // unlocked peek (as takeFromCache's)
        SpinLock.lock(Locks.large)
        defer { SpinLock.unlock(Locks.large) }
        if now < nextGuardAt { return false }
        nextGuardAt = UInt64.max   // until guardBody has measured this one
        return true
    }

    /// Discards every page of a mapping after its header page and makes them
    /// inaccessible (a mapping entering the cache), or makes them read-write again (a
    /// guarded one being reused); moves the next guard time by `guardCostFactor`
    /// times what that took. False if mprotect failed (the protection is unchanged).
    static func guardBody(_ header: UnsafeMutablePointer<SegmentHeader>, accessible: Bool) -> Bool {
        let page = Geometry.osPageSize
        let body = UnsafeMutableRawPointer(header) + page
        let bytes = header.pointee.mappingSize - page
        let start = OS.preciseNanoseconds()
        if !accessible {
            OS.purge(body, size: bytes)
            header.pointee.isFreshZero = true   // the whole block reads as zero now
        }
        let done = OS.protect(body, size: bytes, accessible: accessible)
        let end = OS.preciseNanoseconds()
        let next = end &+ (end &- start) &* guardCostFactor
        SpinLock.lock(Locks.large)
        if nextGuardAt == UInt64.max || next > nextGuardAt { nextGuardAt = next }
        SpinLock.unlock(Locks.large)
        return done
    }

    /// Frees large block `pointer` whose mapping header is `header`.
    static func free(_ header: UnsafeMutablePointer<SegmentHeader>, _ pointer: UnsafeMutableRawPointer) {
        validateBlock(header, pointer, operation: "free")
        header.pointee.userBlock = nil
        header.pointee.isFreshZero = false
        let cacheable = header.pointee.mappingSize <= Options.largeCacheBytes
        // Guarded before it is visible in the cache.
        if cacheable && mayGuard(now: OS.preciseNanoseconds()) {
            header.pointee.isGuarded = guardBody(header, accessible: false)
        }
        let now = OS.nowNanoseconds()
        SpinLock.lock(Locks.large)
        var unmapList: UnsafeMutablePointer<SegmentHeader>? = nil
        if cacheable {
            header.pointee.cachedAt = now
            header.pointee.prev = nil
            header.pointee.next = cache
            if let first = cache { first.pointee.prev = header }
            cache = header
            cachedBytes &+= header.pointee.mappingSize
        } else {
            header.pointee.next = nil
            unmapList = header
        }
        // Evict the oldest entries over the byte budget or past the purge delay.
        var last = cache
        while let l = last, let n = l.pointee.next { last = n }
        while let oldest = last, oldest != header,
              cachedBytes > Options.largeCacheBytes || now &- oldest.pointee.cachedAt > Options.purgeDelayNanoseconds {
            last = oldest.pointee.prev
            unlinkCached(oldest)
            oldest.pointee.next = unmapList
            unmapList = oldest
        }
        SpinLock.unlock(Locks.large)
        while let h = unmapList {
            unmapList = h.pointee.next
            unmap(h)
        }
    }

    /// Under Locks.large: removes `h` from the cache.
    static func unlinkCached(_ h: UnsafeMutablePointer<SegmentHeader>) {
        if let p = h.pointee.prev { p.pointee.next = h.pointee.next } else { cache = h.pointee.next }
        if let n = h.pointee.next { n.pointee.prev = h.pointee.prev }
        h.pointee.next = nil
        h.pointee.prev = nil
        cachedBytes &-= h.pointee.mappingSize
    }

    static func unmap(_ h: UnsafeMutablePointer<SegmentHeader>) {
        let size = h.pointee.mappingSize
        let raw = UnsafeMutableRawPointer(h)
        h.pointee.cookie = 0
        Segments.markMap(raw, chunks: chunks(size), kind: 0)
        SpinLock.lock(Locks.large)
        mappedBytes &-= size
        Segments.purgedBytes &+= size
        SpinLock.unlock(Locks.large)
        OS.unmap(raw, size: size)
    }

    /// Unmaps every cached mapping (malloc_trim). True if anything was released.
    static func trim() -> Bool {
        SpinLock.lock(Locks.large)
        let list = cache
        cache = nil
        cachedBytes = 0
        SpinLock.unlock(Locks.large)
        var h = list
        while let current = h { h = current.pointee.next; unmap(current) }
        return list != nil
    }

    /// Reports and aborts unless `pointer` (inside the mapping of `header`, as
    /// Segments.header(containing:) guarantees) is its live block: not a freed block
    /// (double free), not an interior pointer.
    static func validateBlock(_ header: UnsafeMutablePointer<SegmentHeader>, _ pointer: UnsafeMutableRawPointer,
                              operation: StaticString) {
        if SegmentHeader.cookie(header) != UInt(bitPattern: header) ^ Secret.cookie {
            Report.fatal("large block header corrupted", pointer: pointer)
        }
        if header.pointee.userBlock == pointer { return }
        if header.pointee.userBlock == nil {
            Report.fatal("double free (or use after free) of a large block", pointer: pointer,
                         detail: "mapping bytes ", value: UInt(header.pointee.mappingSize))
        }
        Report.invalid(operation, "interior pointer into a large block", pointer: pointer,
                       size: header.pointee.mappingSize)
    }

    /// Bytes usable from `pointer` to the end of its mapping.
    static func usableSize(_ header: UnsafeMutablePointer<SegmentHeader>, _ pointer: UnsafeMutableRawPointer) -> Int {
        header.pointee.mappingSize - (UInt(bitPattern: pointer) &- UInt(bitPattern: header)).asInt
    }

    /// Resizes a live large block to `size` bytes: in place if the mapping is big
    /// enough or can grow where it is, else by moving its pages with mremap. Returns
    /// nil if the OS refuses (the block is unchanged).
    static func reallocate(_ header: UnsafeMutablePointer<SegmentHeader>, _ pointer: UnsafeMutableRawPointer,
                           size: UInt) -> UnsafeMutableRawPointer? {
        let offset = Int(UInt(bitPattern: pointer) &- UInt(bitPattern: header))
        let total = offset + ((Int(size) + Geometry.osPageSize - 1) & ~(Geometry.osPageSize - 1))
        let old = header.pointee.mappingSize
        if total <= old {
            header.pointee.requested = Int(size)
            return pointer
        }
        let raw = UnsafeMutableRawPointer(header)
        if OS.remapInPlace(raw, from: old, to: total) {
            Segments.markMap(raw, chunks: chunks(total), kind: SegmentKind.large)
        } else {
            let alignment = offset > Geometry.segmentSize ? offset : Geometry.segmentSize
            guard let target = OS.mapAligned(size: total, alignment: alignment) else { return nil }
            // Unmark the old range *before* the move frees it: once mremap returns,
            // another thread may map a new block there and mark it (the caller owns
            // this block, so nobody looks it up meanwhile).
            Segments.markMap(raw, chunks: chunks(old), kind: 0)
            if !OS.remapMove(raw, from: old, to: total, target: target) {
                Segments.markMap(raw, chunks: chunks(old), kind: SegmentKind.large)
                OS.unmap(target, size: total)
                return nil
            }
            let moved = target.assumingMemoryBound(to: SegmentHeader.self)
            moved.pointee.cookie = UInt(bitPattern: target) ^ Secret.cookie
            moved.pointee.userBlock = target + offset
            Segments.markMap(target, chunks: chunks(total), kind: SegmentKind.large)
            moved.pointee.mappingSize = total
            moved.pointee.requested = Int(size)
            SpinLock.lock(Locks.large)
            mappedBytes &+= total &- old
            SpinLock.unlock(Locks.large)
            return target + offset
        }
        header.pointee.mappingSize = total
        header.pointee.requested = Int(size)
        SpinLock.lock(Locks.large)
        mappedBytes &+= total &- old
        SpinLock.unlock(Locks.large)
        return pointer
    }
}

extension UInt {
    @inline(__always) var asInt: Int { Int(bitPattern: self) }
}
