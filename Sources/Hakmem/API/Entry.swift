// Entry.swift -- the allocator's C-callable entry points (hak_*). The C-named
// functions (malloc, free, ...) in Sources/HakmemExports forward here; with full
// LTO they compile to these bodies. Semantics and errno follow glibc.

import CHakmemShim

@c(hak_malloc)
public func hak_malloc(_ size: UInt) -> UnsafeMutableRawPointer? {
    Alloc.malloc(size)
}

@c(hak_free)
public func hak_free(_ pointer: UnsafeMutableRawPointer?) {
    Free.free(pointer)
}

@c(hak_calloc)
public func hak_calloc(_ count: UInt, _ size: UInt) -> UnsafeMutableRawPointer? {
    let (total, overflow) = count.multipliedReportingOverflow(by: size)
    if overflow { return Alloc.outOfMemory() }
    guard let p = Alloc.malloc(total) else { return nil }
    if total > UInt(Size.poolMax), let h = Segments.header(containing: UInt(bitPattern: p)),
       SegmentHeader.kind(h) == SegmentKind.large, h.pointee.isFreshZero {
        return p   // fresh mmap memory is already zero
    }
    p.initializeMemory(as: UInt8.self, repeating: 0, count: Int(total))
    return p
}

@c(hak_realloc)
public func hak_realloc(_ pointer: UnsafeMutableRawPointer?, _ size: UInt) -> UnsafeMutableRawPointer? {
    guard let pointer else { return Alloc.malloc(size) }
    if size == 0 {   // glibc: realloc(p, 0) frees p and returns NULL
        Free.free(pointer)
        return nil
    }
    if size > Size.requestMax { return Alloc.outOfMemory() }
    if Options.checked { return Checked.reallocate(pointer, size) }
    let oldUsable: Int
    var pooledPage: UnsafeMutablePointer<Page>? = nil
    if Segments.mapEntry(UInt(bitPattern: pointer)) == 1 {
        // A pooled block: the free fast path's checks (a free slice's page, the
        // sentinel, fails the block-start test).
        let page = Free.pageOf(pointer)
        Free.checkBlockStart(page, pointer)
        pooledPage = page
        oldUsable = page.pointee.blockSize
        // Same block if the new size still fits and wastes at most half of it.
        if size <= UInt(oldUsable) && size &* 2 >= UInt(oldUsable) {
            Free.checkReallocatable(page, pointer)
            return pointer
        }
    } else {
        guard let header = Segments.header(containing: UInt(bitPattern: pointer)) else {
            Free.notOurs(pointer, operation: "realloc")
        }
        Large.validateBlock(header, pointer, operation: "realloc")
        if size > UInt(Size.poolMax) {
            if let moved = Large.reallocate(header, pointer, size: size) { return moved }
        }
        oldUsable = Large.usableSize(header, pointer)
    }
    // A pooled block that grows gets at least a quarter more room: a buffer grown in
    // small steps moves at most about four times per doubling (as with 4 classes per
    // doubling) instead of once per class (8 per doubling below 32 KiB).
    var request = size
    if size > UInt(oldUsable) && oldUsable <= Size.poolMax {
        let roomy = UInt(oldUsable &+ oldUsable >> 2)
        if roomy > request && roomy <= UInt(Size.poolMax) { request = roomy }
    }
    guard let fresh = Alloc.malloc(request) else {
        if let pooledPage { Free.checkReallocatable(pooledPage, pointer) }
        return nil
    }
    fresh.copyMemory(from: pointer, byteCount: min(Int(size), oldUsable))
    // A moved pooled block's use-after-free test (its free tag) comes after the copy,
    // whose loads fetch the tag's line along with the rest instead of waiting for it
    // alone first (perf: half of hak_realloc's samples on that wait). Nothing has
    // changed yet but the new block, which a report does not need.
    if let pooledPage {
        Free.checkReallocatable(pooledPage, pointer)
        Free.freeOutgrown(pooledPage, pointer)
    } else {
        Free.free(pointer)
    }
    return fresh
}

@c(hak_reallocarray)
public func hak_reallocarray(_ pointer: UnsafeMutableRawPointer?, _ count: UInt, _ size: UInt) -> UnsafeMutableRawPointer? {
    let (total, overflow) = count.multipliedReportingOverflow(by: size)
    if overflow { return Alloc.outOfMemory() }
    return hak_realloc(pointer, total)
}

@inline(__always)
func isPowerOfTwo(_ x: UInt) -> Bool { x != 0 && x & (x &- 1) == 0 }

@c(hak_posix_memalign)
public func hak_posix_memalign(_ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>,
                               _ alignment: UInt, _ size: UInt) -> Int32 {
    if !isPowerOfTwo(alignment) || alignment % UInt(MemoryLayout<UnsafeRawPointer>.size) != 0 {
        return EINVAL
    }
    guard let p = Alloc.aligned(size, alignment: alignment) else { return ENOMEM }
    out.pointee = p
    return 0
}

@c(hak_aligned_alloc)
public func hak_aligned_alloc(_ alignment: UInt, _ size: UInt) -> UnsafeMutableRawPointer? {
    if !isPowerOfTwo(alignment) {
        OS.setErrno(EINVAL)
        return nil
    }
    return Alloc.aligned(size, alignment: alignment)
}

@c(hak_memalign)
public func hak_memalign(_ alignment: UInt, _ size: UInt) -> UnsafeMutableRawPointer? {
    // glibc: a non-power-of-two alignment is rounded up to the next power of two.
    var a = alignment
    if !isPowerOfTwo(a) {
        if a > UInt.max / 2 + 1 { OS.setErrno(EINVAL); return nil }
        a = a <= 1 ? 1 : UInt(1) << UInt(UInt.bitWidth - (a &- 1).leadingZeroBitCount)
    }
    return Alloc.aligned(size, alignment: a)
}

@c(hak_valloc)
public func hak_valloc(_ size: UInt) -> UnsafeMutableRawPointer? {
    Alloc.aligned(size, alignment: UInt(Geometry.osPageSize))
}

@c(hak_pvalloc)
public func hak_pvalloc(_ size: UInt) -> UnsafeMutableRawPointer? {
    let page = UInt(Geometry.osPageSize)
    if size > Size.requestMax { return Alloc.outOfMemory() }
    let rounded = size == 0 ? page : (size &+ page &- 1) & ~(page &- 1)
    return Alloc.aligned(rounded, alignment: page)
}

@c(hak_malloc_usable_size)
public func hak_malloc_usable_size(_ pointer: UnsafeMutableRawPointer?) -> UInt {
    guard let pointer else { return 0 }
    if Options.checked { return Checked.usableSize(pointer) }
    guard let header = Segments.header(containing: UInt(bitPattern: pointer)) else {
        Free.notOurs(pointer, operation: "malloc_usable_size")
    }
    if SegmentHeader.kind(header) == SegmentKind.large {
        Large.validateBlock(header, pointer, operation: "malloc_usable_size")
        return UInt(Large.usableSize(header, pointer))
    }
    return UInt(Free.validPage(header, pointer, operation: "malloc_usable_size").pointee.blockSize)
}

/// C23 free_sized (and sized operator delete): the release build frees; checked mode
/// verifies the size matches the allocation.
@c(hak_free_sized)
public func hak_free_sized(_ pointer: UnsafeMutableRawPointer?, _ size: UInt) {
    if Options.checked, let pointer { Checked.freeSized(pointer, size: size, alignment: 0); return }
    Free.free(pointer)
}

/// C23 free_aligned_sized (and sized aligned operator delete): checked mode verifies
/// size and alignment.
@c(hak_free_aligned_sized)
public func hak_free_aligned_sized(_ pointer: UnsafeMutableRawPointer?, _ alignment: UInt, _ size: UInt) {
    if Options.checked, let pointer {
        Checked.freeSized(pointer, size: size, alignment: alignment < 16 ? 16 : alignment)
        return
    }
    Free.free(pointer)
}

/// malloc_trim: returns cached and free memory to the OS now; 1 if any was released.
@c(hak_malloc_trim)
public func hak_malloc_trim(_ pad: UInt) -> Int32 {
    if let heap = Heaps.current() { Bins.flushAll(heap) }
    let large = Large.trim()
    let pooled = Segments.purgeAll()
    return large || pooled ? 1 : 0
}

/// Bytes hakmem has mapped (pooled segments + large mappings), for mallinfo.
@c(hak_mapped_bytes)
public func hak_mapped_bytes() -> UInt {
    UInt(Segments.mappedBytes &+ Large.mappedBytes)
}

// MARK: Call-site API (hakmem.h)
//
// A site id is any number except UINTPTR_MAX that names where an allocation comes
// from: a return address, a hash of file and line, an enum value. hak_free_at should
// get the id its block was allocated with. With HAKMEM_STATS=1 the call is counted
// through the stats slow path (plain malloc/free go to the implicit site); with stats
// off only the explicit calls are counted, here.

/// Runs `body` with the calling thread's current site set to `site`.
@inline(__always)
func withSite<T>(_ site: UInt, _ body: () -> T) -> T {
    hak_tls_site_set(site &+ 1)
    let result = body()
    hak_tls_site_set(0)
    return result
}

/// Allocates with `allocate` and accounts the block to `site` (through the stats slow
/// path when stats are on, directly otherwise).
@inline(__always)
func allocated(at site: UInt, _ allocate: () -> UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    if Options.stats { return withSite(site, allocate) }
    guard let p = allocate() else { return nil }
    Sites.recordAlloc(site, bytes: Stats.blockBytes(p))
    return p
}

@c(hak_alloc_at)
public func hak_alloc_at(_ size: UInt, _ site: UInt) -> UnsafeMutableRawPointer? {
    allocated(at: site) { Alloc.malloc(size) }
}

@c(hak_calloc_at)
public func hak_calloc_at(_ count: UInt, _ size: UInt, _ site: UInt) -> UnsafeMutableRawPointer? {
    allocated(at: site) { hak_calloc(count, size) }
}

@c(hak_aligned_alloc_at)
public func hak_aligned_alloc_at(_ alignment: UInt, _ size: UInt, _ site: UInt) -> UnsafeMutableRawPointer? {
    allocated(at: site) { hak_aligned_alloc(alignment, size) }
}

@c(hak_realloc_at)
public func hak_realloc_at(_ pointer: UnsafeMutableRawPointer?, _ size: UInt, _ site: UInt) -> UnsafeMutableRawPointer? {
    if Options.stats { return withSite(site) { hak_realloc(pointer, size) } }
    let oldBytes = pointer.map { Stats.blockBytes($0) } ?? 0
    let p = hak_realloc(pointer, size)
    if p == nil && size != 0 { return nil }   // failed: the old block is unchanged
    if pointer != nil { Sites.recordFree(site, bytes: oldBytes) }
    if let p { Sites.recordAlloc(site, bytes: Stats.blockBytes(p)) }
    return p
}

@c(hak_free_at)
public func hak_free_at(_ pointer: UnsafeMutableRawPointer?, _ site: UInt) {
    guard let pointer else { return }
    if Options.stats { withSite(site) { Free.free(pointer) }; return }
    Sites.recordFree(site, bytes: Stats.blockBytes(pointer))
    Free.free(pointer)
}

/// Prints the statistics table (per class with HAKMEM_STATS=1; totals and sites always).
@c(hak_stats_print)
public func hak_stats_print() {
    Stats.print()
}
