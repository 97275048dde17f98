// Invariants.swift -- executable forms of the invariants in Layout.swift, for the
// unit tests and for debugging. Nothing on an allocation path calls them.

enum Invariants {
    /// Number of blocks on a free list, or -1 if the list leaves the page area, has
    /// more links than the page has blocks (a cycle or a corrupted link) or holds a
    /// block without the free tag.
    static func listLength(_ page: UnsafeMutablePointer<Page>, _ head: UnsafeMutableRawPointer?) -> Int {
        var n = 0
        var block = head
        while let b = block {
            if !Pages.isBlockStart(page, UInt(bitPattern: b)) || n > Int(page.pointee.capacity) { return -1 }
            #if !HAKMEM_UNHARDENED
            if !Block.isTaggedFree(b) { return -1 }
            #endif
            n += 1
            block = Block.next(b)
        }
        return n
    }

    /// Checks the page invariants of Layout.swift; returns the first violated one.
    static func check(_ page: UnsafeMutablePointer<Page>) -> StaticString? {
        let p = page.pointee
        if p.capacity > p.reserved { return "capacity <= reserved" }
        if p.carvedLimit != UInt(p.capacity) &* Pages.divStep(page) { return "carvedLimit == capacity * divStep" }
        let mode = p.flags & (PageFlags.binned | PageFlags.slowFree)
        if p.freeLimit != (mode == 0 ? p.carvedLimit : 0) { return "freeLimit == (Tiny, release mode ? carvedLimit : 0)" }
        if p.binnedLimit != (mode == PageFlags.binned ? p.carvedLimit : 0) {
            return "binnedLimit == (Mid/L2.5, release mode ? carvedLimit : 0)"
        }
        if Int(p.binOffset) != Bins.offset(Int(p.sizeClass)) { return "binOffset == Bins.offset(sizeClass)" }
        let colour = Int(bitPattern: UInt(bitPattern: p.start) & Geometry.segmentMask) &- Int(p.sliceIndex) << Geometry.sliceShift
        if colour < 0 || colour &+ Int(p.reserved) * p.blockSize > Int(p.sliceCount) << Geometry.sliceShift {
            return "colour + reserved * blockSize <= page bytes"
        }
        let free = listLength(page, p.free)
        let local = listLength(page, p.localFree)
        if free < 0 || local < 0 { return "free lists stay inside the page, their blocks tagged free" }
        if Int(p.used) != Int(p.capacity) - free - local { return "used == capacity - |free| - |localFree|" }
        return nil
    }

    /// Checks every page of `heap`'s queues and full list, and the direct table of the
    /// calling thread (which must own `heap`).
    static func check(heap: UnsafeMutablePointer<Heap>) -> StaticString? {
        for c in 0..<SizeClass.count {
            var page = Heaps.queue(heap, c).pointee.first
            while let p = page {
                if Int(p.pointee.sizeClass) != c { return "queue holds pages of its class only" }
                if p.pointee.flags & PageFlags.inFull != 0 { return "inFull pages are not queued" }
                if (p.pointee.flags & PageFlags.binned != 0) != (c >= SizeClass.tinyCount) {
                    return "binned <=> Mid/L2.5 class"
                }
                if let problem = check(p) { return problem }
                page = p.pointee.next
            }
        }
        var binned = 0
        for c in 0..<SizeClass.count {
            let bin = Bins.bin(heap, c)
            if bin.pointee.count > bin.pointee.limit || Int(bin.pointee.limit) > Bins.capacity {
                return "bin count <= limit <= capacity"
            }
            let slots = Bins.slots(bin)
            for i in 0..<Int(bin.pointee.count) where !Block.isTaggedFree(slots[i])
                || Int(Free.pageOf(slots[i]).pointee.sizeClass) != c
                || AtomicWord.loadRelaxed(Free.ownerWord(Free.pageOf(slots[i]))) != UInt(bitPattern: heap) {
                return "bin blocks are free blocks of the bin's class, in pages of the bin's heap"
            }
            binned += Int(bin.pointee.count) * Bins.charge(c)
        }
        if binned != heap.pointee.binnedCharge { return "binnedCharge == sum of bin charges" }
        var page = Heaps.fullQueue(heap).pointee.first
        while let p = page {
            if p.pointee.flags & PageFlags.inFull == 0 { return "full list pages carry inFull" }
            if let problem = check(p) { return problem }
            page = p.pointee.next
        }
        return nil
    }
}
