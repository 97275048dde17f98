// Alloc.swift -- allocation from the pooled tiers.
//
// Fast path (`Alloc.malloc`, inlined into malloc): for a request <= 1 KiB, one TLS
// load of the direct slot (the heap's bin of the size class), a pop from the bin's
// stack, the free tag cleared. No calls, no atomics, no locks, no read of the block.
// Everything else jumps to `hak_malloc_slow` (C convention, so the jump is a tail
// call), whose first lines are the Mid fast path (the same pop, through the direct
// slot of the request's 128-byte granule, plus the heap's budget) and the L2.5 one
// (the class computed, a pop from the heap's bin); the rest is `mallocRefill`: an
// empty Tiny bin is filled with a batch of blocks from a page (Bins.fill), whose
// links are checked there.

import CHakmemShim

enum Alloc {
    @inline(__always)
    static func malloc(_ size: UInt) -> UnsafeMutableRawPointer? {
        if size <= UInt(Size.tinyMax) {
            let bin = hak_tls_direct_slots()[Int(truncatingIfNeeded: (size &+ 15) >> 4)]
                .unsafelyUnwrapped.assumingMemoryBound(to: Bin.self)
            let count = bin.pointee.count
            if _fastPath(count != 0) {
                let top = count &- 1
                bin.pointee.count = top
                let block = Bins.slots(bin)[Int(truncatingIfNeeded: top)]
                Block.clearTag(block)
                return block
            }
        }
        return hak_malloc_slow(size)
    }

    /// A malloc the fast paths did not serve: first use of a thread, an empty bin,
    /// Large sizes, checked and stats modes, and invalid sizes.
    @inline(never)
    static func mallocRefill(_ size: UInt) -> UnsafeMutableRawPointer? {
        if size > Size.requestMax { return outOfMemory() }
        guard let heap = Heaps.currentOrCreate() else { return outOfMemory() }
        Bins.tick(heap)
        if Options.slowPathsOnly { return allocateInMode(heap, size, alignment: 16) }
        return mallocCore(heap, size)
    }

    /// Stats and/or checked mode: count (stats) around the checked or plain allocation.
    static func allocateInMode(_ heap: UnsafeMutablePointer<Heap>, _ size: UInt, alignment: UInt) -> UnsafeMutableRawPointer? {
        if Options.stats { return Stats.countedAllocation(heap, size: size, alignment: alignment) }
        return allocateUncounted(heap, size, alignment: alignment)
    }

    /// Checked or plain allocation, not counted in the statistics.
    static func allocateUncounted(_ heap: UnsafeMutablePointer<Heap>, _ size: UInt, alignment: UInt) -> UnsafeMutableRawPointer? {
        if Options.checked { return Checked.allocate(heap, size, alignment: alignment) }
        return alignment <= 16 ? mallocCore(heap, size) : alignedCore(heap, size, alignment: alignment)
    }

    /// malloc below checked mode, for the calling thread's `heap` and a valid `size`:
    /// the bins and pages (an empty Tiny bin is filled on the way), or a Large mapping.
    @inline(__always)
    static func mallocCore(_ heap: UnsafeMutablePointer<Heap>, _ size: UInt) -> UnsafeMutableRawPointer? {
        if size > UInt(Size.poolMax) { return Large.allocate(size: size, alignment: 16) }
        let c = SizeClass.of(Int(size))
        if let block = Bins.pop(heap, c) { return block }
        // Other threads' frees of this heap's blocks come back (into the bins while
        // they have room, else to their pages) before the pages are asked for more.
        if Heaps.hasRemote(heap) {
            Free.collectRemote(heap)
            if let block = Bins.pop(heap, c) { return block }
        }
        guard let block = allocate(heap, c) else { return nil }
        if c < SizeClass.tinyCount, let page = Heaps.queue(heap, c).pointee.first {
            Bins.fill(heap, c, from: page)
        }
        return block
    }

    /// Allocation of `alignment` (a power of two) and `size`: pooled when a class
    /// with suitably aligned blocks exists, else a Large mapping.
    static func aligned(_ size: UInt, alignment: UInt) -> UnsafeMutableRawPointer? {
        if alignment <= 16 { return malloc(size) }
        if size > Size.requestMax || alignment > Size.alignmentMax { return outOfMemory() }
        guard let heap = Heaps.currentOrCreate() else { return outOfMemory() }
        if Options.slowPathsOnly { return allocateInMode(heap, size, alignment: alignment) }
        return alignedCore(heap, size, alignment: alignment)
    }

    /// Aligned allocation below checked mode, for the calling thread's `heap`
    /// (`alignment` > 16, a power of two <= Size.alignmentMax).
    static func alignedCore(_ heap: UnsafeMutablePointer<Heap>, _ size: UInt, alignment: UInt) -> UnsafeMutableRawPointer? {
        if alignment <= UInt(Size.poolAlignmentMax) && size <= UInt(Size.poolMax) {
            let c = SizeClass.aligned(Int(size), alignment: Int(alignment))
            if c >= 0 {
                // Every block of such a class is aligned (size a multiple of the
                // alignment, page start slice-aligned), so binned blocks qualify too.
                if let block = Bins.pop(heap, c) { return block }
                return allocate(heap, c)
            }
        }
        return Large.allocate(size: size, alignment: Int(alignment))
    }

    /// Pops a block of class `c` from the first page of its queue (lock-free and
    /// thread-local), else finds or makes a page.
    @inline(__always)
    static func allocate(_ heap: UnsafeMutablePointer<Heap>, _ c: Int) -> UnsafeMutableRawPointer? {
        if let page = Heaps.queue(heap, c).pointee.first, page.pointee.free != nil {
            return pop(page)
        }
        return allocateFromNewPage(heap, c)
    }

    /// Finds (or makes) a page of class `c` with a free block, puts it first in the
    /// queue and pops from it.
    @inline(never)
    static func allocateFromNewPage(_ heap: UnsafeMutablePointer<Heap>, _ c: Int) -> UnsafeMutableRawPointer? {
        RemoteBatch.flush(heap)
        if Heaps.hasRemote(heap) { Free.collectRemote(heap) }
        let q = Heaps.queue(heap, c)
        // Freed blocks of any page of the queue first (see Bins.fillPages), then fresh
        // ones of the first page that has some left; pages with neither are full.
        var candidate = q.pointee.first
        while let page = candidate {
            candidate = page.pointee.next
            if page.pointee.free != nil || page.pointee.localFree != nil {
                if page.pointee.free == nil { _ = Pages.refill(page) }   // takes localFree
                return popFirst(q, page)
            }
        }
        candidate = q.pointee.first
        while let page = candidate {
            candidate = page.pointee.next
            if Pages.refill(page) { return popFirst(q, page) }   // (carves: no list has a block)
            moveToFull(heap, page)
        }
        while let page = Abandoned.adopt(c, heap: heap) {
            Heaps.pushFront(q, page)
            if page.pointee.free != nil || Pages.refill(page) { return pop(page) }
            moveToFull(heap, page)
        }
        guard let page = Segments.allocatePage(slices: SizeClass.pageSlices(c), sizeClass: c,
                                               heap: UInt(bitPattern: heap))
        else { return outOfMemory() }
        Heaps.pushFront(q, page)
        Pages.extend(page)
        return pop(page)
    }

    /// Puts `page` (of queue `q`, with a block in `page.free`) first in the queue and
    /// pops from it.
    static func popFirst(_ q: UnsafeMutablePointer<PageQueue>, _ page: UnsafeMutablePointer<Page>)
        -> UnsafeMutableRawPointer? {
        if q.pointee.first != page {
            Heaps.remove(q, page)
            Heaps.pushFront(q, page)
        }
        return pop(page)
    }

    /// Pops the head of `page.free` (non-empty), checking its link.
    @inline(__always)
    static func pop(_ page: UnsafeMutablePointer<Page>) -> UnsafeMutableRawPointer? {
        let block = page.pointee.free.unsafelyUnwrapped
        page.pointee.free = Pages.checkedNext(page, block)
        Block.clearFreeWords(block)
        page.pointee.used &+= 1
        return block
    }

    /// Moves a page with no free block from its class queue to the heap's full list.
    static func moveToFull(_ heap: UnsafeMutablePointer<Heap>, _ page: UnsafeMutablePointer<Page>) {
        Heaps.remove(Heaps.queue(heap, Int(page.pointee.sizeClass)), page)
        Pages.setFlags(page, page.pointee.flags | PageFlags.inFull)
        Heaps.pushFront(Heaps.fullQueue(heap), page)
    }

    @inline(never)
    static func outOfMemory() -> UnsafeMutableRawPointer? {
        OS.setErrno(ENOMEM)
        return nil
    }
}

/// Every malloc that Alloc.malloc's fast path did not serve. Its first lines are the
/// Mid fast path (the heap's bin through the direct table: in checked and stats modes,
/// and before the thread has a heap, the slot holds the empty bin) and the L2.5 one (a
/// pop from the heap's bin of the class); the rest (`mallocRefill`) is out of line.
/// C calling convention (not exported): malloc's fast path then ends in a jump here,
/// not a call with its stack adjustment.
@c(hak_malloc_slow) @inline(never)
func hak_malloc_slow(_ size: UInt) -> UnsafeMutableRawPointer? {
    if size &- UInt(Size.tinyMax &+ 1) < UInt(Size.midMax &- Size.tinyMax) {
        let bin = hak_tls_direct_slots()[Bins.midDirectIndex(size)]
            .unsafelyUnwrapped.assumingMemoryBound(to: Bin.self)
        if let block = Bins.pop(bin) { return block }
    } else if size > UInt(Size.midMax) && size <= UInt(Size.poolMax), let heap = Heaps.current(),
              !Options.slowPathsOnly, let block = Bins.pop(heap, SizeClass.of(Int(size))) {
        // (checked and stats modes see every malloc: not from here). The options are
        // read only once the thread has a heap: making it ran start-up (Startup.ensure),
        // so they are set; before, another thread may be writing them (TSan).
        return block
    }
    return Alloc.mallocRefill(size)
}
