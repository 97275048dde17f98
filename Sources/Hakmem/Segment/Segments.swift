// Segments.swift -- pooled segments: carving pages out of 4 MiB segments, taking
// them back, and returning idle memory to the OS after a decay.
// All functions here run under Locks.segments (slow path: once per page, not per
// block).

import CHakmemShim

enum Segments {
    /// Segments with at least one free slice, most recently used first.
    nonisolated(unsafe) static var list: UnsafeMutablePointer<SegmentHeader>?
    /// Completely empty segments kept mapped beyond this count are unmapped. Spares
    /// are purged like any free slice, so they cost address space, not memory.
    static let spareLimit = 8
    nonisolated(unsafe) static var spareCount = 0
    /// Earliest `purgeAt` of any segment (0 = nothing to purge).
    nonisolated(unsafe) static var nextPurge: UInt64 = 0
    /// Bytes currently mapped for pooled segments (statistics).
    nonisolated(unsafe) static var mappedBytes = 0
    /// Bytes given back with madvise/munmap so far (statistics).
    nonisolated(unsafe) static var purgedBytes = 0

    // MARK: Segment map

    /// Segment-map entry of the chunk holding `address`.
    @inline(__always)
    static func mapEntry(_ address: UInt) -> UInt8 {
        hak_segmap_base()[Int(truncatingIfNeeded: address >> UInt(Geometry.segmentShift))]
    }

    /// Records `chunks` chunks starting at `base` as hakmem memory of `kind`
    /// (see Layout.swift, "Segment map"); `kind == 0` clears them.
    static func markMap(_ base: UnsafeMutableRawPointer, chunks: Int, kind: UInt32) {
        let map = hak_segmap_base()
        let first = Int(UInt(bitPattern: base) >> UInt(Geometry.segmentShift))
        for j in 0..<chunks {
            let value: UInt8
            if kind == 0 { value = 0 }
            else if kind == SegmentKind.pooled { value = 1 }
            else { value = j <= 252 ? UInt8(2 + j) : 255 }
            map[first + j] = value
        }
    }

    /// Header of the segment or large mapping that holds `address`, or nil if the
    /// address is not in hakmem memory. O(1): reads the segment map, and for a Large
    /// mapping its header's size (the rest of its last chunk belongs to whoever the
    /// kernel gives it). Never reads memory at `address`.
    @inline(__always)
    static func header(containing address: UInt) -> UnsafeMutablePointer<SegmentHeader>? {
        let entry = mapEntry(address)
        if entry == 0 || entry == 255 { return nil }
        if entry == 1 { return UnsafeMutablePointer(bitPattern: address & ~Geometry.segmentMask) }
        let base = (address & ~Geometry.segmentMask) &- (UInt(entry &- 2) << UInt(Geometry.segmentShift))
        let header = UnsafeMutablePointer<SegmentHeader>(bitPattern: base).unsafelyUnwrapped
        return address &- base < UInt(header.pointee.mappingSize) ? header : nil
    }

    // MARK: Pages

    /// The pageOf entry of slice `slice` of `segment` (in the segment's colour row, see
    /// SegmentLayout).
    @inline(__always)
    static func pageOf(_ segment: UnsafeMutablePointer<SegmentHeader>, slice: Int)
        -> UnsafeMutablePointer<UnsafeMutablePointer<Page>> {
        pageOf(segment, entry: SegmentLayout.pageOfEntry(UInt(bitPattern: segment)) &+ slice)
    }

    /// The pageOf entry of an address inside `segment`: its bits 16...24 (slice and
    /// colour), one shift and one mask on the free fast path.
    @inline(__always)
    static func pageOf(_ segment: UnsafeMutablePointer<SegmentHeader>, address: UInt)
        -> UnsafeMutablePointer<UnsafeMutablePointer<Page>> {
        pageOf(segment, entry: SegmentLayout.pageOfEntry(address))
    }

    @inline(__always)
    static func pageOf(_ segment: UnsafeMutablePointer<SegmentHeader>, entry: Int)
        -> UnsafeMutablePointer<UnsafeMutablePointer<Page>> {
        (UnsafeMutableRawPointer(segment) + SegmentLayout.pageOfOffset)
            .assumingMemoryBound(to: UnsafeMutablePointer<Page>.self) + entry
    }

    /// The descriptor of the page starting at slice `i` (descriptor 0, of the metadata
    /// slice, is the sentinel for free slices).
    @inline(__always)
    static func page(_ segment: UnsafeMutablePointer<SegmentHeader>, _ i: Int) -> UnsafeMutablePointer<Page> {
        (UnsafeMutableRawPointer(segment) + SegmentLayout.pagesOffset + i * Page.slotBytes)
            .assumingMemoryBound(to: Page.self)
    }

    /// Takes `slices` contiguous free slices and returns their page descriptor,
    /// initialised for class `sizeClass` and owned by `heap`; nil if out of memory.
    static func allocatePage(slices: Int, sizeClass: Int, heap: UInt) -> UnsafeMutablePointer<Page>? {
        SpinLock.lock(Locks.segments)
        defer { SpinLock.unlock(Locks.segments) }
        purgeExpired(now: OS.nowNanoseconds())
        // Prefer slices still resident (freed, not purged yet): no page faults.
        var segment = list
        var first = -1
        while let s = segment {
            first = findFreeRun(s.pointee.usedSlices | ~s.pointee.dirtySlices, length: slices)
            if first >= 0 { break }
            segment = s.pointee.next
        }
        if first < 0 {
            segment = list
            while let s = segment {
                first = findFreeRun(s.pointee.usedSlices, length: slices)
                if first >= 0 { break }
                segment = s.pointee.next
            }
        }
        if first < 0 {
            guard let fresh = newSegment() else { return nil }
            segment = fresh
            first = 1
        }
        let s = segment!
        let run = runMask(first: first, count: slices)
        if s.pointee.usedSlices == 1 { spareCount &-= 1 }
        s.pointee.usedSlices |= run
        s.pointee.dirtySlices &= ~run
        if s.pointee.usedSlices == ~UInt64(0) { unlink(s) }

        let page = Segments.page(s, first)
        for i in first..<(first + slices) { pageOf(s, slice: i).pointee = page }
        let blockSize = SizeClass.blockSize(sizeClass)
        let bytes = slices << Geometry.sliceShift
        let colour = Pages.colourOffset(segment: UInt(bitPattern: s), slice: first, bytes: bytes,
                                        sizeClass: sizeClass)
        let area = UnsafeMutableRawPointer(s) + (first << Geometry.sliceShift + colour)
        page.pointee = Page(
            binnedLimit: 0, used: 0, binOffset: UInt16(Bins.offset(sizeClass)), flags: 0,
            sizeClass: UInt8(sizeClass), keyBias: 0,
            freeLimit: 0, heap: heap, divMagic: 0, start: area, carvedLimit: 0, free: nil, capacity: 0,
            reserved: UInt32((bytes - colour) / blockSize),
            sliceIndex: UInt8(first), blockSize: blockSize,
            sliceCount: UInt8(slices), localFree: nil, next: nil, prev: nil)
        Pages.setDivision(page, blockSize: blockSize)
        Pages.setFlags(page, (sizeClass >= SizeClass.tinyCount ? PageFlags.binned : 0)
                       | (Options.slowPathsOnly ? PageFlags.slowFree : 0))
        return page
    }

    /// Returns the slices of `page` (which must have no block in use) to its segment.
    static func releasePage(_ page: UnsafeMutablePointer<Page>) {
        let segment = UnsafeMutablePointer<SegmentHeader>(
            bitPattern: UInt(bitPattern: page) & ~Geometry.segmentMask)!
        SpinLock.lock(Locks.segments)
        defer { SpinLock.unlock(Locks.segments) }
        let first = Int(page.pointee.sliceIndex)
        let slices = Int(page.pointee.sliceCount)
        let sentinel = Segments.page(segment, 0)
        for i in first..<(first + slices) { pageOf(segment, slice: i).pointee = sentinel }
        page.pointee.heap = Page.noOwner
        page.pointee.free = nil
        page.pointee.localFree = nil
        page.pointee.blockSize = 0
        let run = runMask(first: first, count: slices)
        let wasFull = segment.pointee.usedSlices == ~UInt64(0)
        segment.pointee.usedSlices &= ~run
        segment.pointee.dirtySlices |= run
        if wasFull { link(segment) }
        let now = OS.nowNanoseconds()
        if segment.pointee.purgeAt == 0 {
            segment.pointee.purgeAt = now &+ Options.purgeDelayNanoseconds
            if nextPurge == 0 || segment.pointee.purgeAt < nextPurge { nextPurge = segment.pointee.purgeAt }
        }
        if segment.pointee.usedSlices == 1 {
            spareCount &+= 1
            if spareCount > spareLimit { spareCount &-= 1; freeSegment(segment); return }
        }
        purgeExpired(now: now)
    }

    // MARK: Purging

    /// Gives back the memory of dirty free slices whose decay has passed.
    static func purgeExpired(now: UInt64) {
        if nextPurge == 0 || now < nextPurge { return }
        nextPurge = 0
        var segment = list
        while let s = segment {
            segment = s.pointee.next
            if s.pointee.purgeAt == 0 { continue }
            if s.pointee.purgeAt <= now { purge(s) }
            else if nextPurge == 0 || s.pointee.purgeAt < nextPurge { nextPurge = s.pointee.purgeAt }
        }
    }

    /// madvise(DONTNEED)s every dirty free run of `segment` now.
    static func purge(_ segment: UnsafeMutablePointer<SegmentHeader>) {
        var dirty = segment.pointee.dirtySlices & ~segment.pointee.usedSlices
        while dirty != 0 {
            let first = dirty.trailingZeroBitCount
            let run = (~(dirty >> UInt64(first))).trailingZeroBitCount
            OS.purge(UnsafeMutableRawPointer(segment) + first << Geometry.sliceShift,
                     size: run << Geometry.sliceShift)
            purgedBytes &+= run << Geometry.sliceShift
            dirty &= ~runMask(first: first, count: run)
        }
        segment.pointee.dirtySlices = 0
        segment.pointee.purgeAt = 0
    }

    /// Purges everything now (malloc_trim). Returns true if anything was released.
    static func purgeAll() -> Bool {
        SpinLock.lock(Locks.segments)
        defer { SpinLock.unlock(Locks.segments) }
        let before = purgedBytes
        var segment = list
        while let s = segment { segment = s.pointee.next; purge(s) }
        nextPurge = 0
        return purgedBytes != before
    }

    // MARK: Segment list

    /// Bit mask of `count` slices starting at slice `first`.
    @inline(__always)
    static func runMask(first: Int, count: Int) -> UInt64 {
        (count >= 64 ? ~UInt64(0) : (UInt64(1) << UInt64(count)) &- 1) << UInt64(first)
    }

    /// Index of the first run of `length` zero bits in `used`, or -1.
    @inline(__always)
    static func findFreeRun(_ used: UInt64, length: Int) -> Int {
        var free = ~used
        if length == 1 { return free == 0 ? -1 : free.trailingZeroBitCount }
        // Shift-and: bit i stays set iff bits i...i+length-1 are all free.
        var k = 1
        while k < length && free != 0 {
            let shift = min(k, length - k)
            free &= free >> UInt64(shift)
            k += shift
        }
        return free == 0 ? -1 : free.trailingZeroBitCount
    }

    static func newSegment() -> UnsafeMutablePointer<SegmentHeader>? {
        guard let raw = OS.mapAligned(size: Geometry.segmentSize, alignment: Geometry.segmentSize)
        else { return nil }
        let s = raw.assumingMemoryBound(to: SegmentHeader.self)
        s.pointee = SegmentHeader(
            cookie: UInt(bitPattern: raw) ^ Secret.cookie, kind: SegmentKind.pooled,
            usedSlices: 1, dirtySlices: 0, purgeAt: 0, next: nil, prev: nil,
            mappingSize: Geometry.segmentSize, userBlock: nil, requested: 0, cachedAt: 0,
            isFreshZero: true)
        let sentinel = page(s, 0)
        sentinel.pointee.heap = Page.noOwner
        for i in 0..<Geometry.slicesPerSegment { pageOf(s, slice: i).pointee = sentinel }
        mappedBytes &+= Geometry.segmentSize
        spareCount &+= 1   // empty until the caller takes slices
        link(s)
        markMap(raw, chunks: 1, kind: SegmentKind.pooled)
        return s
    }

    static func freeSegment(_ s: UnsafeMutablePointer<SegmentHeader>) {
        unlink(s)
        markMap(UnsafeMutableRawPointer(s), chunks: 1, kind: 0)
        s.pointee.cookie = 0
        mappedBytes &-= Geometry.segmentSize
        purgedBytes &+= Geometry.segmentSize
        OS.unmap(UnsafeMutableRawPointer(s), size: Geometry.segmentSize)
    }

    static func link(_ s: UnsafeMutablePointer<SegmentHeader>) {
        s.pointee.prev = nil
        s.pointee.next = list
        if let head = list { head.pointee.prev = s }
        list = s
    }

    static func unlink(_ s: UnsafeMutablePointer<SegmentHeader>) {
        if let p = s.pointee.prev { p.pointee.next = s.pointee.next } else { list = s.pointee.next }
        if let n = s.pointee.next { n.pointee.prev = s.pointee.prev }
        s.pointee.next = nil
        s.pointee.prev = nil
    }
}
