// Free.swift -- freeing into the pooled tiers.
//
// Fast path (`Free.free`, inlined into free): one segment-map byte says "pooled
// segment"; the page comes from the segment's pageOf[] table; if the calling thread
// owns the page and the page has no flag (Tiny, not full), the block is pushed on the
// page's local free list. No calls, no atomics, no locks. Owned Mid/L2.5 blocks take
// `freeOwned` (a push on the heap's bin: also lock-free and thread-local).
// Slow paths: NULL, foreign pointers, Large blocks, frees from other threads
// (lock-free push on the owner heap's remoteFree), full pages, pages that become
// empty, and invalid pointers (reported).

import CHakmemShim

enum Free {
    @inline(__always)
    static func free(_ pointer: UnsafeMutableRawPointer?) {
        let address = UInt(bitPattern: pointer)
        if Segments.mapEntry(address) == 1 {
            let segment = UnsafeMutablePointer<SegmentHeader>(bitPattern: address & ~Geometry.segmentMask).unsafelyUnwrapped
            let page = Segments.pageOf(segment, slice: Int(truncatingIfNeeded: address >> UInt(Geometry.sliceShift)) & 63).pointee
            if page.pointee.heap == hak_tls_heap_word() {
                let block = pointer.unsafelyUnwrapped
                if page.pointee.flags == 0 {
                    Block.setNext(block, page.pointee.localFree)
                    page.pointee.localFree = block
                    page.pointee.used &-= 1
                    if page.pointee.used != 0 { return }
                    retire(Heaps.current().unsafelyUnwrapped, page)
                    return
                }
                freeOwned(page, block)
                return
            }
        }
        freeSlow(pointer)
    }

    /// A block of a page the calling thread owns, on a flagged page: Mid/L2.5 blocks go
    /// to the heap's bin, blocks of a full Tiny page to the page (which leaves the full
    /// list).
    @inline(never)
    static func freeOwned(_ page: UnsafeMutablePointer<Page>, _ block: UnsafeMutableRawPointer) {
        let heap = Heaps.current().unsafelyUnwrapped
        if page.pointee.flags & PageFlags.binned != 0 {
            Bins.push(heap, Int(page.pointee.sizeClass), block)
        } else {
            freeLocal(heap, page, block)
        }
    }

    /// The page descriptor of a block known to be in a pooled segment.
    @inline(__always)
    static func pageOf(_ block: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Page> {
        let address = UInt(bitPattern: block)
        return Segments.pageOf(
            UnsafeMutablePointer<SegmentHeader>(bitPattern: address & ~Geometry.segmentMask).unsafelyUnwrapped,
            slice: Int(truncatingIfNeeded: address >> UInt(Geometry.sliceShift)) & 63).pointee
    }

    /// Every free the fast path did not finish.
    @inline(never)
    static func freeSlow(_ pointer: UnsafeMutableRawPointer?) {
        guard let pointer else { return }
        let address = UInt(bitPattern: pointer)
        guard let header = Segments.header(containing: address) else {
            return   // not hakmem memory: ignored (see docs/design.md, "Foreign pointers")
        }
        if header.pointee.kind == SegmentKind.large {
            Large.free(header, pointer)
            return
        }
        let page = validPage(header, pointer, invalid: "invalid free: not a block hakmem handed out")
        let heap = Heaps.current()
        if let heap, AtomicWord.loadRelaxed(ownerWord(page)) == UInt(bitPattern: heap) {
            freeLocal(heap, page, pointer)
        } else {
            freeRemote(page, pointer)
        }
    }

    /// The page holding `pointer` in pooled segment `header`; reports `invalid` and
    /// aborts if `pointer` is not the start of a block hakmem handed out.
    static func validPage(_ header: UnsafeMutablePointer<SegmentHeader>, _ pointer: UnsafeMutableRawPointer,
                          invalid: StaticString) -> UnsafeMutablePointer<Page> {
        let address = UInt(bitPattern: pointer)
        if header.pointee.cookie != UInt(bitPattern: header) ^ Secret.cookie {
            Report.fatal("segment header corrupted", pointer: pointer)
        }
        let page = Segments.pageOf(header, slice: Int(truncatingIfNeeded: address >> UInt(Geometry.sliceShift)) & 63).pointee
        if page == Segments.pages(header) || !Pages.isBlockStart(page, address) {
            Report.fatal(invalid, pointer: pointer)
        }
        return page
    }

    @inline(__always)
    static func ownerWord(_ page: UnsafeMutablePointer<Page>) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(page) + Page.heapOffset
    }

    /// Frees a block of a page the calling thread owns.
    static func freeLocal(_ heap: UnsafeMutablePointer<Heap>, _ page: UnsafeMutablePointer<Page>,
                          _ block: UnsafeMutableRawPointer) {
        Block.setNext(block, page.pointee.localFree)
        page.pointee.localFree = block
        page.pointee.used &-= 1
        if page.pointee.flags & PageFlags.inFull != 0 {
            // The page has room again: back into its class queue.
            page.pointee.flags &= ~PageFlags.inFull
            Heaps.remove(Heaps.fullQueue(heap), page)
            let c = Int(page.pointee.sizeClass)
            let q = Heaps.queue(heap, c)
            let wasEmpty = q.pointee.first == nil
            Heaps.pushBack(q, page)
            if wasEmpty { Heaps.updateDirect(heap, c) }
        }
        if page.pointee.used == 0 { retire(heap, page) }
    }

    /// A page of `heap` whose blocks are all free: kept if it is the only page of its
    /// class (so alloc/free cycles do not churn pages), else returned to its segment.
    @inline(never)
    static func retire(_ heap: UnsafeMutablePointer<Heap>, _ page: UnsafeMutablePointer<Page>) {
        let c = Int(page.pointee.sizeClass)
        let q = Heaps.queue(heap, c)
        if q.pointee.first == page && q.pointee.last == page && !heap.pointee.isExiting { return }
        let wasFirst = q.pointee.first == page
        Heaps.remove(q, page)
        if wasFirst { Heaps.updateDirect(heap, c) }
        Segments.releasePage(page)
    }

    /// Frees a block of a page owned by another thread (or by nobody): a lock-free
    /// push on the owner heap's remoteFree stack, collected by the owner later.
    static func freeRemote(_ page: UnsafeMutablePointer<Page>, _ block: UnsafeMutableRawPointer) {
        while true {
            let owner = AtomicWord.load(ownerWord(page))
            if owner == Page.noOwner {
                if Abandoned.free(page, block) { return }
                continue   // adopted meanwhile: retry with the new owner
            }
            let word = Heaps.remoteFreeWord(UnsafeMutablePointer<Heap>(bitPattern: owner).unsafelyUnwrapped)
            var head = AtomicWord.loadRelaxed(word)
            while head != Heap.abandonedMarker {
                Block.setNext(block, UnsafeMutableRawPointer(bitPattern: head))
                let seen = AtomicWord.compareExchange(word, expected: head, desired: UInt(bitPattern: block))
                if seen == head { return }
                head = seen
            }
            // The owner exited after we read it; its pages are abandoned now.
        }
    }

    /// Takes every block other threads freed into `heap` and frees it locally (or
    /// re-dispatches it if the page changed owner since it was pushed).
    @inline(never)
    static func collectRemote(_ heap: UnsafeMutablePointer<Heap>) {
        var list = UnsafeMutableRawPointer(bitPattern: AtomicWord.exchange(Heaps.remoteFreeWord(heap), 0))
        while let block = list {
            list = Block.next(block)
            let page = pageOf(block)
            heap.pointee.collected &+= 1
            if AtomicWord.loadRelaxed(ownerWord(page)) == UInt(bitPattern: heap) {
                freeLocal(heap, page, block)
            } else {
                freeRemote(page, block)
            }
        }
    }
}
