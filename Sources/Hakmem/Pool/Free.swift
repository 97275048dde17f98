// Free.swift -- freeing into the pooled tiers.
//
// Fast path (`Free.free`, inlined into free): one segment-map byte says "pooled
// segment"; the page comes from the segment's pageOf[] table; if the calling thread
// owns the page, one multiplication and compare (Page.freeLimit) checks both that the
// page is a Tiny page whose frees may take the fast path and that the pointer is a
// carved block start, the free tag that the block is not already free; then the
// block is tagged and pushed on the heap's bin of its class (heap + Page.binOffset).
// No calls, no atomics, no locks. Owned Mid/L2.5 blocks take `freeOwned`, whose first
// lines are their fast path (the same checks and push, within the heap's budget; a
// full bin or budget goes on to `freeOwnedBinFull`); a full Tiny bin and checked or
// stats mode go on to `freeOwnedSlow`.
// Blocks of pages other threads own take `freeOthers` (the same checks, then the
// thread's remote batch: one CAS per batch). Slow paths: NULL, foreign pointers,
// Large blocks, threads without a heap, checked and stats modes, and invalid
// pointers and double frees (reported; abort).

import CHakmemShim

enum Free {
    @inline(__always)
    static func free(_ pointer: UnsafeMutableRawPointer?) {
        let address = UInt(bitPattern: pointer)
        if Segments.mapEntry(address) == 1 {
            let page = pageOf(pointer.unsafelyUnwrapped)
            // Relaxed atomic load (a plain mov): other threads store it when a page is
            // abandoned or adopted, never while this thread owns the page.
            let heapWord = hak_tls_heap_word()
            if AtomicWord.loadRelaxed(ownerWord(page)) == heapWord {
                let block = pointer.unsafelyUnwrapped
                // A Tiny page is one 64 KiB slice: its key comes from the low 16 bits
                // (Pages.tinyKey). The same comparison rejects pages that are not Tiny
                // (freeLimit 0, see Page).
                #if !HAKMEM_UNHARDENED
                let fast = Pages.tinyKey(page, address) < page.pointee.freeLimit
                #else
                let fast = page.pointee.freeLimit != 0
                #endif
                if fast {
                    #if !HAKMEM_UNHARDENED
                    if Block.isTaggedFree(block) { invalidOrDoubleFree(page, block) }
                    #endif
                    let bin = UnsafeMutablePointer<Bin>(bitPattern: heapWord &+ UInt(page.pointee.binOffset))
                        .unsafelyUnwrapped
                    let count = bin.pointee.count
                    if _fastPath(count < bin.pointee.limit) {
                        Block.tagFree(block)
                        Bins.append(bin, block, count: count)
                        return
                    }
                }
                freeOwned(heapWord, page, block)
                return
            }
            // (Not the page's flags: its owner may be changing them right now.)
            if !Options.slowPathsOnly, let heap = Heaps.current() {
                freeOthers(heap, page, pointer.unsafelyUnwrapped)
                return
            }
        }
        freeSlow(pointer)
    }

    /// A pooled block of a page the calling thread (which has a heap) does not own:
    /// checked like the fast path does, then added to the thread's remote batch for
    /// its owner (or, for a block of an abandoned page, freed at once so that this
    /// thread adopts the page and its next frees into it take the owner's fast path).
    /// The block never stays with this thread: kept in its bin (session 11, as in a
    /// tcmalloc thread cache), other threads' Tiny blocks raised remote_free_ring T=2's
    /// peak RSS by 1.1 MB and were no faster once remote frees travelled in messages
    /// (docs/perf-log.md, session 18).
    @inline(never)
    static func freeOthers(_ heap: UnsafeMutablePointer<Heap>, _ page: UnsafeMutablePointer<Page>,
                           _ block: UnsafeMutableRawPointer) {
        // start and divMagic are fixed for the page's life; the owner may be raising
        // carvedLimit right now (see Page.carvedLimit).
        #if !HAKMEM_UNHARDENED
        guard (UInt(bitPattern: block) &- Page.sharedStart(page)) &* Page.sharedDivMagic(page)
                < AtomicWord.loadRelaxed(UnsafeMutableRawPointer(page) + Page.carvedLimitOffset),
              !Block.isTaggedFree(block)
        else { invalidOrDoubleFree(page, block) }
        #endif
        Block.tagFree(block)
        RemoteBatch.add(heap, page, block)
        Bins.tick(heap)
    }

    /// A block of a page the calling thread owns that the Tiny fast path did not take.
    /// Its first lines are the Mid/L2.5 fast path: the block checked and pushed on the
    /// heap's bin while the bin and the heap's budget have room (no calls, no
    /// saved registers); a full bin or budget goes to `freeOwnedBinFull`. Everything
    /// else goes to `freeOwnedSlow`.
    @inline(never)
    static func freeOwned(_ heapWord: UInt, _ page: UnsafeMutablePointer<Page>, _ block: UnsafeMutableRawPointer) {
        if Pages.startKey(page, UInt(bitPattern: block)) < page.pointee.binnedLimit {
            #if !HAKMEM_UNHARDENED
            if Block.isTaggedFree(block) { invalidOrDoubleFree(page, block) }
            #endif
            Block.tagFree(block)
            let heap = UnsafeMutablePointer<Heap>(bitPattern: heapWord).unsafelyUnwrapped
            let bin = UnsafeMutablePointer<Bin>(bitPattern: heapWord &+ UInt(page.pointee.binOffset))
                .unsafelyUnwrapped
            if Bins.offer(heap, bin: bin, block) { return }
            freeOwnedBinFull(heap, page, block)
            return
        }
        freeOwnedSlow(page, block)
    }

    /// The rest of freeOwned's Mid/L2.5 fast path when the bin or the heap's budget is
    /// full: the block is validated and tagged already; the bin is flushed (or the
    /// block goes to its page). Out of line so that freeOwned saves no registers.
    @inline(never)
    static func freeOwnedBinFull(_ heap: UnsafeMutablePointer<Heap>, _ page: UnsafeMutablePointer<Page>,
                                 _ block: UnsafeMutableRawPointer) {
        freeOwnedValidated(heap, page, block)
    }

    /// The rest of `freeOwned`: Tiny blocks of a full bin (flushed to the pages first),
    /// checked and stats modes, and pointers that are not carved block starts (reported).
    @inline(never)
    static func freeOwnedSlow(_ page: UnsafeMutablePointer<Page>, _ block: UnsafeMutableRawPointer) {
        if page.pointee.flags & PageFlags.slowFree != 0 {
            if Options.stats { Stats.noteFree(block) }
            if Options.checked { Checked.free(block); return }
        }
        checkFreeable(page, block)
        Block.tagFree(block)
        freeOwnedValidated(Heaps.current().unsafelyUnwrapped, page, block)
    }

    /// Frees the pooled block of `page` that realloc just moved out of (validated by
    /// realloc). A Mid/L2.5 block of the caller's own page goes straight back to its
    /// page, not to the bin: binned, the buffers that growing objects leave behind kept
    /// their pages resident (bench_realloc, 2000 objects: peak RSS 21.4 MB, 15.1 MB this
    /// way; mimalloc 14.9; throughput within noise). Tiny blocks, other threads' blocks
    /// and the slow-path modes take the plain free.
    static func freeOutgrown(_ page: UnsafeMutablePointer<Page>, _ block: UnsafeMutableRawPointer) {
        // (The owner first: another owner may be changing the page's flags.)
        if let heap = Heaps.current(), AtomicWord.loadRelaxed(ownerWord(page)) == UInt(bitPattern: heap),
           page.pointee.flags & (PageFlags.binned | PageFlags.slowFree) == PageFlags.binned {
            Block.tagFree(block)
            freeLocal(heap, page, block)
            return
        }
        free(block)
    }

    /// The page descriptor of a block known to be in a pooled segment.
    @inline(__always)
    static func pageOf(_ block: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Page> {
        let address = UInt(bitPattern: block)
        return Segments.pageOf(
            UnsafeMutablePointer<SegmentHeader>(bitPattern: address & ~Geometry.segmentMask).unsafelyUnwrapped,
            address: address).pointee
    }

    /// Every free the fast path did not finish.
    @inline(never)
    static func freeSlow(_ pointer: UnsafeMutableRawPointer?) {
        guard let pointer else { return }
        if Options.stats { Stats.noteFree(pointer) }
        if Options.checked { Checked.free(pointer); return }
        freeValidated(pointer)
    }

    /// Frees `pointer` after validating it (the whole free below checked mode).
    static func freeValidated(_ pointer: UnsafeMutableRawPointer) {
        let address = UInt(bitPattern: pointer)
        guard let header = Segments.header(containing: address) else {
            notOurs(pointer, operation: "free")
        }
        if SegmentHeader.kind(header) == SegmentKind.large {
            Large.free(header, pointer)
            return
        }
        let page = validPage(header, pointer, operation: "free")
        Block.tagFree(pointer)
        // A thread's first free makes its heap, as its first malloc would (tcmalloc does
        // the same): a thread that only frees other threads' blocks (a consumer) then
        // batches them (RemoteBatch) instead of one CAS on the owner per block.
        let heap = Heaps.currentOrCreate()
        if let heap, AtomicWord.loadRelaxed(ownerWord(page)) == UInt(bitPattern: heap) {
            freeOwnedValidated(heap, page, pointer)
        } else if let heap {
            RemoteBatch.add(heap, page, pointer)
        } else {
            freeRemote(page, pointer)
        }
    }

    /// The page holding `pointer` in pooled segment `header`, after checking that
    /// `pointer` is a live block hakmem handed out; reports and aborts otherwise.
    static func validPage(_ header: UnsafeMutablePointer<SegmentHeader>, _ pointer: UnsafeMutableRawPointer,
                          operation: StaticString) -> UnsafeMutablePointer<Page> {
        if SegmentHeader.cookie(header) != UInt(bitPattern: header) ^ Secret.cookie {
            Report.fatal("segment header corrupted", pointer: pointer)
        }
        let page = pageOf(pointer)
        if page == Segments.page(header, 0) {
            Report.invalid(operation, "pointer into unused hakmem memory", pointer: pointer)
        }
        checkFreeable(page, pointer)
        return page
    }

    /// Reports and aborts unless `block` is the start of a carved block of `page` that is
    /// not free.
    @inline(__always)
    static func checkFreeable(_ page: UnsafeMutablePointer<Page>, _ block: UnsafeMutableRawPointer) {
        checkBlockStart(page, block)
        #if !HAKMEM_UNHARDENED
        if Block.isTaggedFree(block) { invalidOrDoubleFree(page, block) }
        #endif
    }

    /// checkFreeable's first half: `block` is the start of a carved block of `page`
    /// (reads the descriptor only, not the block).
    @inline(__always)
    static func checkBlockStart(_ page: UnsafeMutablePointer<Page>, _ block: UnsafeMutableRawPointer) {
        if !Pages.isBlockStart(page, UInt(bitPattern: block)) {
            #if !HAKMEM_UNHARDENED
            invalidOrDoubleFree(page, block)
            #else
            Report.invalid("free", "not the start of a block", pointer: block)
            #endif
        }
    }

    /// realloc's second half of checkFreeable: the block start `block` is not free (its
    /// free tag; nothing in the unhardened build), reported as a realloc of a free block.
    @inline(__always)
    static func checkReallocatable(_ page: UnsafeMutablePointer<Page>, _ block: UnsafeMutableRawPointer) {
        #if !HAKMEM_UNHARDENED
        if Block.isTaggedFree(block) { reallocOfFreeBlock(page, block) }
        #endif
    }

    @inline(never)
    static func reallocOfFreeBlock(_ page: UnsafeMutablePointer<Page>, _ block: UnsafeMutableRawPointer) -> Never {
        Report.fatal("realloc of a free block (use after free)", pointer: block,
                     detail: "block size ", value: UInt(page.pointee.blockSize))
    }

    /// Reports a pointer into `page` that is not a block start, or a double free.
    @inline(never)
    static func invalidOrDoubleFree(_ page: UnsafeMutablePointer<Page>, _ block: UnsafeMutableRawPointer) -> Never {
        if !Pages.isBlockStart(page, UInt(bitPattern: block)) {
            Report.invalid("free", "not the start of a block (interior or misaligned pointer)",
                           pointer: block, size: page.pointee.blockSize)
        }
        Report.fatal("double free", pointer: block, detail: "block size ", value: UInt(page.pointee.blockSize))
    }

    /// A pointer outside every hakmem mapping.
    @inline(never)
    static func notOurs(_ pointer: UnsafeMutableRawPointer, operation: StaticString) -> Never {
        Report.invalid(operation, "pointer not allocated by hakmem", pointer: pointer)
    }

    @inline(__always)
    static func ownerWord(_ page: UnsafeMutablePointer<Page>) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(page) + Page.heapOffset
    }

    /// A validated, tagged block of a page `heap` owns: into its bin (if the bin takes
    /// it), else back to the page.
    @inline(__always)
    static func freeOwnedValidated(_ heap: UnsafeMutablePointer<Heap>, _ page: UnsafeMutablePointer<Page>,
                                   _ block: UnsafeMutableRawPointer) {
        Bins.tick(heap)
        if !Bins.push(heap, Int(page.pointee.sizeClass), block) {
            freeLocal(heap, page, block)
        }
    }

    /// Frees a (validated, tagged) block of a page the calling thread owns.
    @inline(__always)
    static func freeLocal(_ heap: UnsafeMutablePointer<Heap>, _ page: UnsafeMutablePointer<Page>,
                          _ block: UnsafeMutableRawPointer) {
        Block.setNext(block, page.pointee.localFree)
        page.pointee.localFree = block
        page.pointee.used &-= 1
        if page.pointee.flags & PageFlags.inFull != 0 {
            // The page has room again: back into its class queue.
            Pages.setFlags(page, page.pointee.flags & ~PageFlags.inFull)
            Heaps.remove(Heaps.fullQueue(heap), page)
            Heaps.pushBack(Heaps.queue(heap, Int(page.pointee.sizeClass)), page)
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
        Heaps.remove(q, page)
        Segments.releasePage(page)
    }

    /// Frees a (validated, tagged) block of a page owned by another thread (or by
    /// nobody): a lock-free push on the owner heap's remoteFree stack, collected by the
    /// owner later.
    static func freeRemote(_ page: UnsafeMutablePointer<Page>, _ block: UnsafeMutableRawPointer) {
        while true {
            let owner = AtomicWord.load(ownerWord(page))
            if owner == Page.noOwner {
                if Abandoned.free(page, block) { return }
                continue   // adopted meanwhile: retry with the new owner
            }
            if pushRemote(owner: owner, block) { return }
            // The owner exited after we read it; its pages are abandoned now.
        }
    }

    /// Pushes `block` (its link is overwritten) on heap `owner`'s remoteFree with one
    /// CAS; false if the owner has exited. Batches travel in messages (pushMessage).
    static func pushRemote(owner: UInt, _ block: UnsafeMutableRawPointer) -> Bool {
        let word = Heaps.remoteFreeWord(UnsafeMutablePointer<Heap>(bitPattern: owner).unsafelyUnwrapped)
        var head = AtomicWord.loadRelaxed(word)
        while head != Heap.abandonedMarker {
            Block.setNext(block, UnsafeMutableRawPointer(bitPattern: head))
            let seen = AtomicWord.compareExchange(word, expected: head, desired: UInt(bitPattern: block))
            if seen == head { return true }
            head = seen
        }
        return false
    }

    /// Pushes message `m` on heap `owner`'s remoteMessages with one CAS; false if the
    /// owner has exited (`m` is untouched then).
    static func pushMessage(owner: UInt, _ m: UnsafeMutablePointer<RemoteMessage>) -> Bool {
        let word = Heaps.remoteMessagesWord(UnsafeMutablePointer<Heap>(bitPattern: owner).unsafelyUnwrapped)
        var head = AtomicWord.loadRelaxed(word)
        while head != Heap.abandonedMarker {
            m.pointee.next = UnsafeMutablePointer<RemoteMessage>(bitPattern: head)
            let seen = AtomicWord.compareExchange(word, expected: head, desired: UInt(bitPattern: m))
            if seen == head { return true }
            head = seen
        }
        return false
    }

    /// Frees each block of message `m` on its own (its owner has exited); `m` is empty
    /// afterwards.
    static func freeEach(_ m: UnsafeMutablePointer<RemoteMessage>) {
        let slots = RemoteMessages.slots(m)
        for i in 0..<m.pointee.count { freeRemote(pageOf(slots[i]), slots[i]) }
        m.pointee.count = 0
    }

    /// The next block of a remoteFree list, checked to be a 16-aligned address in a
    /// pooled segment (as bin links are): a corrupted link is reported, not followed.
    static func checkedRemoteNext(_ block: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
        guard let next = Block.next(block) else { return nil }
        if Segments.mapEntry(UInt(bitPattern: next)) != 1 || UInt(bitPattern: next) & 15 != 0 {
            Report.fatal("remote free list corrupted (write after free?): bad link in free block", pointer: block)
        }
        return next
    }

    /// Takes every block other threads freed into `heap` (in messages, then single
    /// ones): into its bin while the bin has room, else back to its page (or
    /// re-dispatched if the page changed owner since it was sent). The emptied messages
    /// become the heap's spares.
    @inline(never)
    static func collectRemote(_ heap: UnsafeMutablePointer<Heap>) {
        var messages = UnsafeMutablePointer<RemoteMessage>(
            bitPattern: AtomicWord.exchange(Heaps.remoteMessagesWord(heap), 0))
        while let m = messages {
            messages = m.pointee.next
            let slots = RemoteMessages.slots(m)
            for i in 0..<m.pointee.count { collectOne(heap, slots[i]) }
            RemoteMessages.give(heap, m)
        }
        var list = UnsafeMutableRawPointer(bitPattern: AtomicWord.exchange(Heaps.remoteFreeWord(heap), 0))
        while let block = list {
            list = checkedRemoteNext(block)
            Block.clearLink(block)
            collectOne(heap, block)
        }
    }

    /// One block collectRemote took (validated, tagged, no link in it).
    @inline(__always)
    static func collectOne(_ heap: UnsafeMutablePointer<Heap>, _ block: UnsafeMutableRawPointer) {
        let page = pageOf(block)
        heap.pointee.collected &+= 1
        if AtomicWord.loadRelaxed(ownerWord(page)) == UInt(bitPattern: heap) {
            if !Bins.offer(heap, Int(page.pointee.sizeClass), block) { freeLocal(heap, page, block) }
        } else {
            freeRemote(page, block)
        }
    }
}
