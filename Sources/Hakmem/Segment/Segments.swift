// Segments.swift -- pooled segments: carving pages out of 4 MiB segments, taking
// them back, and returning idle memory to the OS after a decay.
// All functions here run under Locks.segments (slow path: once per page, not per
// block).

import CHakmemShim

enum Segments {
    /// One entry per pooled segment mapped, in no particular order (see SegmentEntry):
    /// page allocation scans it from the start. Mapped memory, doubled when full.
    nonisolated(unsafe) static var table: UnsafeMutablePointer<SegmentEntry>?
    nonisolated(unsafe) static var tableCount = 0
    nonisolated(unsafe) static var tableCapacity = 0
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
        var found = slices == 1 ? findResidentSlice(sizeClass: sizeClass)
                                : findRun(length: slices, residentOnly: true)
        if found == nil { found = findRun(length: slices, residentOnly: false) }
        if found == nil {
            guard let fresh = newSegment() else { return nil }
            found = (entry(fresh), 1)
        }
        let (e, first) = found.unsafelyUnwrapped
        let s = e.pointee.segment
        let run = runMask(first: first, count: slices)
        if e.pointee.usedSlices == 1 { spareCount &-= 1 }
        e.pointee.usedSlices |= run
        e.pointee.dirtySlices &= ~run
        e.pointee.agedSlices &= ~run

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
        let e = entry(segment)
        e.pointee.usedSlices &= ~run
        e.pointee.dirtySlices |= run
        let now = OS.nowNanoseconds()
        if e.pointee.purgeAt == 0 { schedulePurge(e, now: now) }
        if e.pointee.usedSlices == 1 {
            spareCount &+= 1
            if spareCount > spareLimit { spareCount &-= 1; freeSegment(segment); return }
        }
        purgeExpired(now: now)
    }

    // MARK: Purging

    /// A segment's purge ticks are half the purge delay apart: a tick purges the slices
    /// aged at the previous one and ages the dirty ones, so a slice is purged after it
    /// has stayed free for between half the delay and the delay. (One timer per segment
    /// that purged every dirty slice at once gave back slices freed a moment before,
    /// which the program then faulted in again.)
    @inline(__always)
    static var purgeTick: UInt64 { Options.purgeDelayNanoseconds / 2 }

    /// Sets the next purge tick of the segment of `e`.
    static func schedulePurge(_ e: UnsafeMutablePointer<SegmentEntry>, now: UInt64) {
        e.pointee.purgeAt = now &+ purgeTick
        if nextPurge == 0 || e.pointee.purgeAt < nextPurge { nextPurge = e.pointee.purgeAt }
    }

    /// Runs the purge ticks that are due: gives back the memory of aged free slices
    /// (all dirty ones with a zero delay) and ages the dirty ones.
    static func purgeExpired(now: UInt64) {
        if nextPurge == 0 || now < nextPurge { return }
        nextPurge = 0
        for i in 0..<tableCount {
            let e = table.unsafelyUnwrapped + i
            if e.pointee.purgeAt == 0 { continue }
            if e.pointee.purgeAt <= now {
                if purgeTick == 0 {
                    purge(e, e.pointee.dirtySlices | e.pointee.agedSlices)
                } else {
                    purge(e, e.pointee.agedSlices)
                    e.pointee.agedSlices = e.pointee.dirtySlices
                }
                e.pointee.dirtySlices = 0
                e.pointee.purgeAt = 0
                if e.pointee.agedSlices != 0 { schedulePurge(e, now: now) }
            } else if nextPurge == 0 || e.pointee.purgeAt < nextPurge {
                nextPurge = e.pointee.purgeAt
            }
        }
    }

    /// madvise(DONTNEED)s the runs of `slices` (free slices of the segment of `e`) now
    /// and forgets that they were dirty or aged.
    static func purge(_ e: UnsafeMutablePointer<SegmentEntry>, _ slices: UInt64) {
        let segment = e.pointee.segment
        var dirty = slices & ~e.pointee.usedSlices
        e.pointee.dirtySlices &= ~slices
        e.pointee.agedSlices &= ~slices
        while dirty != 0 {
            let first = dirty.trailingZeroBitCount
            let run = (~(dirty >> UInt64(first))).trailingZeroBitCount
            OS.purge(UnsafeMutableRawPointer(segment) + first << Geometry.sliceShift,
                     size: run << Geometry.sliceShift)
            purgedBytes &+= run << Geometry.sliceShift
            dirty &= ~runMask(first: first, count: run)
        }
    }

    /// Purges everything now (malloc_trim). Returns true if anything was released.
    static func purgeAll() -> Bool {
        SpinLock.lock(Locks.segments)
        defer { SpinLock.unlock(Locks.segments) }
        let before = purgedBytes
        for i in 0..<tableCount {
            let e = table.unsafelyUnwrapped + i
            purge(e, e.pointee.dirtySlices | e.pointee.agedSlices)
            e.pointee.purgeAt = 0
        }
        nextPurge = 0
        return purgedBytes != before
    }

    // MARK: Segment table

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
            tableIndex: 0, next: nil, prev: nil,
            mappingSize: Geometry.segmentSize, userBlock: nil, requested: 0, cachedAt: 0,
            isFreshZero: true, isGuarded: false)
        guard addEntry(s) else {
            OS.unmap(raw, size: Geometry.segmentSize)
            return nil
        }
        let sentinel = page(s, 0)
        sentinel.pointee.heap = Page.noOwner
        for i in 0..<Geometry.slicesPerSegment { pageOf(s, slice: i).pointee = sentinel }
        mappedBytes &+= Geometry.segmentSize
        spareCount &+= 1   // empty until the caller takes slices
        markMap(raw, chunks: 1, kind: SegmentKind.pooled)
        return s
    }

    static func freeSegment(_ s: UnsafeMutablePointer<SegmentHeader>) {
        removeEntry(s)
        markMap(UnsafeMutableRawPointer(s), chunks: 1, kind: 0)
        s.pointee.cookie = 0
        mappedBytes &-= Geometry.segmentSize
        purgedBytes &+= Geometry.segmentSize
        OS.unmap(UnsafeMutableRawPointer(s), size: Geometry.segmentSize)
    }

    /// The table entry of pooled segment `s`.
    @inline(__always)
    static func entry(_ s: UnsafeMutablePointer<SegmentHeader>) -> UnsafeMutablePointer<SegmentEntry> {
        table.unsafelyUnwrapped + s.pointee.tableIndex
    }

    /// The first entry with a run of `length` free slices (of slices still resident
    /// only, if `residentOnly`) and the run's first slice; nil if there is none.
    static func findRun(length: Int, residentOnly: Bool) -> (UnsafeMutablePointer<SegmentEntry>, Int)? {
        for i in 0..<tableCount {
            let e = table.unsafelyUnwrapped + i
            let taken = residentOnly ? e.pointee.usedSlices | ~(e.pointee.dirtySlices | e.pointee.agedSlices)
                                     : e.pointee.usedSlices
            let first = findFreeRun(taken, length: length)
            if first >= 0 { return (e, first) }
        }
        return nil
    }

    /// A free slice still resident whose last page was a one-slice page of class `c`,
    /// else the first free slice still resident; nil if there is none. The same class
    /// gets the same colour and block layout, so the new page carves through the bytes
    /// its predecessor touched: any other page leaves those beyond its own blocks
    /// resident and unused until the slice is purged (remote_free_pc 4T, whose pages
    /// come and go thousands of times a second: peak RSS 8.19 -> 7.88 MB, medians of 9).
    /// A released page's descriptor keeps its class and slice count; the descriptors
    /// of slices no page started at hold older values, which can only mislead the
    /// choice, not the page made from it. At most `sameClassProbes` descriptors are
    /// read (under the segment lock): after a program frees most of a big heap, every
    /// slice of hundreds of segments can be resident and free for a purge delay.
    static func findResidentSlice(sizeClass c: Int) -> (UnsafeMutablePointer<SegmentEntry>, Int)? {
        var first: (UnsafeMutablePointer<SegmentEntry>, Int)? = nil
        var probes = sameClassProbes
        for i in 0..<tableCount {
            let e = table.unsafelyUnwrapped + i
            var resident = (e.pointee.dirtySlices | e.pointee.agedSlices) & ~e.pointee.usedSlices
            if resident == 0 { continue }
            if first == nil { first = (e, resident.trailingZeroBitCount) }
            while resident != 0 {
                if probes == 0 { return first }
                probes &-= 1
                let slice = resident.trailingZeroBitCount
                resident &= resident &- 1
                let last = page(e.pointee.segment, slice)
                if Int(last.pointee.sizeClass) == c && last.pointee.sliceCount == 1 { return (e, slice) }
            }
        }
        return first
    }

    /// Most descriptors findResidentSlice reads.
    static let sameClassProbes = 128

    /// Appends the entry of new segment `s` (only its metadata slice in use); false if
    /// the table could not grow.
    static func addEntry(_ s: UnsafeMutablePointer<SegmentHeader>) -> Bool {
        if tableCount == tableCapacity && !growTable() { return false }
        (table.unsafelyUnwrapped + tableCount).initialize(
            to: SegmentEntry(segment: s, usedSlices: 1, dirtySlices: 0, agedSlices: 0, purgeAt: 0))
        s.pointee.tableIndex = tableCount
        tableCount &+= 1
        return true
    }

    /// Removes the entry of `s`: the last entry takes its place.
    static func removeEntry(_ s: UnsafeMutablePointer<SegmentHeader>) {
        let t = table.unsafelyUnwrapped
        let i = s.pointee.tableIndex
        tableCount &-= 1
        if i != tableCount {
            t[i] = t[tableCount]
            t[i].segment.pointee.tableIndex = i
        }
    }

    /// Doubles the table's capacity (one OS page at first) into a new mapping.
    static func growTable() -> Bool {
        let stride = MemoryLayout<SegmentEntry>.stride
        let capacity = tableCapacity == 0 ? Geometry.osPageSize / stride : tableCapacity * 2
        guard let raw = OS.map(size: capacity * stride) else { return false }
        if let old = table {
            raw.copyMemory(from: old, byteCount: tableCount * stride)
            OS.unmap(UnsafeMutableRawPointer(old), size: tableCapacity * stride)
        }
        table = raw.assumingMemoryBound(to: SegmentEntry.self)
        tableCapacity = capacity
        return true
    }
}
