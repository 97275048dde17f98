// Bin.swift -- per-thread LIFO caches of free blocks, one per size class (see Bin in
// Layout.swift). A bin is a stack of block pointers inside the heap: the owner's
// free of a block is a push, malloc pops the most recently freed block of the class.
// Neither follows a link stored in the block (no cold link load on malloc, no link to
// corrupt); the free tag written into the block still catches double frees.
//
// Tiny bins are the fast paths: malloc pops through hak_tls_direct (Alloc.malloc) and
// the owner's free pushes through Page.binOffset (Free.free), both inline. When a Tiny
// bin is empty, the slow path takes a batch of blocks from a page (`fill`); when it is
// full, the older half goes back to its pages (`flush`). Mid bins are popped through
// hak_tls_direct too, by the first lines of hak_malloc_slow; L2.5 bins through the
// heap. Mid/L2.5 bins are pushed by the first lines of Free.freeOwned (their fast
// paths), one block at a time, and are bounded per heap as well: each cached block is
// charged to the heap's budget (Options.threadCacheBytes), an L2.5 block four times
// its size.

import CHakmemShim

enum Bins {
    /// Most blocks one bin holds.
    static let capacity = 62
    /// Bytes per bin in the heap: the 24-byte header and the slots (496), padded so that
    /// the stride is 9 cache lines: with 512 every bin's first line fell in 8 of the
    /// 64 L1 sets (cachegrind, random_mixed ws=400 16..32768: D1 misses -4 % at 576).
    static let stride = 576
    static let slotsOffset = 24

    /// Offset of bin `c` from its heap (also stored in each page: Page.binOffset).
    @inline(__always)
    static func offset(_ c: Int) -> Int { Heap.binsOffset &+ c &* stride }

    @inline(__always)
    static func bin(_ heap: UnsafeMutablePointer<Heap>, _ c: Int) -> UnsafeMutablePointer<Bin> {
        (UnsafeMutableRawPointer(heap) + offset(c)).assumingMemoryBound(to: Bin.self)
    }

    /// The slots of `bin`: slots[0..<count], newest last.
    @inline(__always)
    static func slots(_ bin: UnsafeMutablePointer<Bin>) -> UnsafeMutablePointer<UnsafeMutableRawPointer> {
        (UnsafeMutableRawPointer(bin) + slotsOffset).assumingMemoryBound(to: UnsafeMutableRawPointer.self)
    }

    /// What one cached block of class `c` costs of its heap's budget: nothing for Tiny
    /// (bounded by the bin's capacity alone), its size for Mid, four times its size for
    /// L2.5. Big blocks each pin a part of a page that other classes could reuse: with
    /// every block charged at its size, a budget that let random_mixed ws=400 16..32768
    /// keep its Mid blocks (8 MiB: 1.3x faster, half the peak RSS) raised
    /// bench_mid_large_mt's peak RSS by 8-10 % and slowed it; weighted, the L2.5 share of
    /// the budget is what it was at 2 MiB.
    static func charge(_ c: Int) -> Int {
        c < SizeClass.tinyCount ? 0 : c < SizeClass.l25First ? SizeClass.blockSize(c) : 4 &* SizeClass.blockSize(c)
    }

    /// hak_tls_direct slot of a Mid request (Size.tinyMax < size <= Size.midMax): one
    /// per 128-byte granule (every Mid class boundary is a multiple of 128), after the
    /// Tiny slots.
    @inline(__always)
    static func midDirectIndex(_ size: UInt) -> Int {
        Int(truncatingIfNeeded: (size &+ 127) >> 7) &+ (Int(HAK_DIRECT_TINY_SLOTS) &- (Size.tinyMax >> 7 &+ 1))
    }

    /// Bin `c` of `heap`, its header set up if this is its first use (see Bin: a bin
    /// starts all zeroes, an empty bin that takes no block, so that a thread's heap
    /// makes resident only the bins of the classes it uses: 8 of a heap's 13 bin
    /// pages stay untouched in a thread that uses Tiny classes alone; remote_free_pc 4T
    /// peak RSS -0.2..0.4 MB). Slow paths only.
    static func prepared(_ heap: UnsafeMutablePointer<Heap>, _ c: Int) -> UnsafeMutablePointer<Bin> {
        let b = bin(heap, c)
        if b.pointee.blockSize != 0 { return b }
        let size = SizeClass.blockSize(c)
        // Mid/L2.5: 1/8 of the budget per class, at least one block (a freed big
        // block is reused before an untouched one). Tiny: 1/16 of the budget's bytes
        // per class, which is the full capacity at any budget of 1 MiB or more.
        let fit = c < SizeClass.tinyCount ? Options.threadCacheBytes / 16 / size
                                          : Options.threadCacheBytes / 8 / charge(c)
        let limit = Options.threadCacheBytes == 0 ? 0 : fit < 1 ? 1 : fit > capacity ? capacity : fit
        b.pointee.limit = UInt32(limit)
        b.pointee.blockSize = UInt32(size)
        b.pointee.charge = UInt32(charge(c))
        b.pointee.heap = heap
        return b
    }

    /// Points the calling thread's direct table at the Tiny and Mid bins of its new
    /// `heap` (not in checked and stats modes, where every malloc takes the slow path).
    /// The bins need not be set up: an unused one is empty (see `prepared`).
    static func attachDirect(_ heap: UnsafeMutablePointer<Heap>) {
        if Options.slowPathsOnly { return }
        let direct = hak_tls_direct_slots()
        for c in 0..<SizeClass.tinyCount {
            let range = SizeClass.directSlots(c)
            for i in range.first...range.last { direct[i] = UnsafeMutableRawPointer(bin(heap, c)) }
        }
        for size in Swift.stride(from: Size.tinyMax + 128, through: Size.midMax, by: 128) {
            direct[midDirectIndex(UInt(size))] = UnsafeMutableRawPointer(bin(heap, SizeClass.of(size)))
        }
    }

    /// Points the calling thread's direct table at the empty bin (thread exit).
    static func detachDirect() {
        let direct = hak_tls_direct_slots()
        for i in 0..<Int(HAK_DIRECT_SLOTS) { direct[i] = hak_empty_bin_address() }
    }

    /// The most recently freed block of class `c`, or nil (slow paths).
    @inline(__always)
    static func pop(_ heap: UnsafeMutablePointer<Heap>, _ c: Int) -> UnsafeMutableRawPointer? {
        pop(bin(heap, c))
    }

    /// The most recently freed block of bin `b` (its heap's, or the empty bin), or nil;
    /// its charge is given back to the bin's heap.
    @inline(__always)
    static func pop(_ b: UnsafeMutablePointer<Bin>) -> UnsafeMutableRawPointer? {
        let count = b.pointee.count
        if count == 0 { return nil }
        b.pointee.count = count &- 1
        b.pointee.heap.unsafelyUnwrapped.pointee.binnedCharge &-= Int(b.pointee.charge)
        let block = slots(b)[Int(truncatingIfNeeded: count &- 1)]
        Block.clearTag(block)
        return block
    }

    /// Caches a block the owner thread frees (already validated and tagged free) on the
    /// slow paths, flushing the older half of a full bin first; false if it is not
    /// cached (the bin is disabled, or the heap's budget is spent: the bin is emptied
    /// then): the caller frees it to its page.
    static func push(_ heap: UnsafeMutablePointer<Heap>, _ c: Int, _ block: UnsafeMutableRawPointer) -> Bool {
        if offer(heap, c, block) { return true }
        let b = bin(heap, c)   // (prepared by offer)
        let limit = b.pointee.limit
        if limit == 0 { return false }
        // (Never for a Tiny bin: it charges nothing.)
        if heap.pointee.binnedCharge &+ Int(b.pointee.charge) > Options.threadCacheBytes {
            flush(heap, c, keep: 0)
            return false
        }
        flush(heap, c, keep: Int(limit / 2))
        return offer(heap, c, block)
    }

    /// Most bytes of blocks one fill moves into a bin.
    static let fillBytes = 8192

    /// Caches a validated free block (no link in word 0) in bin `c` if it has room and
    /// the heap's budget allows its charge; never flushes. Callers: push and collected
    /// remote frees.
    static func offer(_ heap: UnsafeMutablePointer<Heap>, _ c: Int, _ block: UnsafeMutableRawPointer) -> Bool {
        offer(heap, bin: prepared(heap, c), block)
    }

    /// Pushes `block` on bin `b`, whose count is `count` (< limit, already tested by the
    /// caller: the fast free path and the offers).
    @inline(__always)
    static func append(_ b: UnsafeMutablePointer<Bin>, _ block: UnsafeMutableRawPointer, count: UInt32) {
        slots(b)[Int(truncatingIfNeeded: count)] = block
        b.pointee.count = count &+ 1
    }

    /// `offer` for bin `b` of `heap`: room in the bin and in the heap's budget, then the
    /// push with its charge added. Also the owner's Mid/L2.5 free fast path
    /// (Free.freeOwned), which finds `b` through Page.binOffset.
    @inline(__always)
    static func offer(_ heap: UnsafeMutablePointer<Heap>, bin b: UnsafeMutablePointer<Bin>,
                      _ block: UnsafeMutableRawPointer) -> Bool {
        let count = b.pointee.count
        let charged = heap.pointee.binnedCharge &+ Int(b.pointee.charge)
        if count >= b.pointee.limit || charged > Options.threadCacheBytes { return false }
        append(b, block, count: count)
        heap.pointee.binnedCharge = charged
        return true
    }

    /// Moves up to half a bin of free blocks into the bin of Tiny class `c`, which must
    /// be empty, so the next mallocs of the class take the fast path. `page` is the
    /// first page of the class queue (malloc just took a block from it). Freed blocks
    /// come first: those of `page`, then those of the next pages of the queue (at most
    /// `fillPages` pages in all); only then are never-used blocks of `page` carved
    /// straight into the bin. Blocks keep their page's list order (the first of a list
    /// is popped first), tagged free with word 0 zeroed.
    static func fill(_ heap: UnsafeMutablePointer<Heap>, _ c: Int, from page: UnsafeMutablePointer<Page>) {
        let b = prepared(heap, c)
        // Half a bin, but at most fillBytes of blocks (at least 4): a batch of big Tiny
        // blocks would carve and touch memory the thread may never use.
        let byBytes = fillBytes / Int(b.pointee.blockSize)
        var target = Int(b.pointee.limit / 2)
        if target > byBytes { target = byBytes < 4 ? 4 : byBytes }
        if target > Int(b.pointee.limit) { target = Int(b.pointee.limit) }
        if b.pointee.count != 0 || target == 0 { return }
        let s = slots(b)
        var count = 0
        var next: UnsafeMutablePointer<Page>? = page
        var pages = 0
        while count < target, pages < fillPages, let p = next {
            next = p.pointee.next
            pages &+= 1
            count = takeFreed(p, into: s, count: count, target: target)
        }
        if count < target { count = carve(page, into: s, count: count, target: target) }
        if count < target {
            for i in 0..<count { s[i] = s[target &- count &+ i] }
        }
        b.pointee.count = UInt32(count)
    }

    /// Most pages one fill takes freed blocks from. Without the pages after the first,
    /// a fill carved fresh blocks while the blocks a flush had given back to other
    /// pages of the class lay unused: random_mixed ws=8192 16..1040 peak RSS 5.18 ->
    /// 4.81 MB, mimalloc 4.81 (medians of 5 interleaved runs).
    static let fillPages = 4

    /// Moves blocks of `page.free`, then of `page.localFree`, into the bin's slots
    /// (from the top down: slots[target - 1] first) until `target` are there; returns
    /// the new count.
    @inline(__always)
    static func takeFreed(_ page: UnsafeMutablePointer<Page>, into s: UnsafeMutablePointer<UnsafeMutableRawPointer>,
                          count: Int, target: Int) -> Int {
        var count = count
        // The list head stays in a register; the page sees it at the end.
        var free = page.pointee.free
        let before = count
        while count < target {
            if let block = free {
                // Tagged free already (Layout.swift); only the link must not reach the user.
                free = Pages.checkedNext(page, block)
                Block.clearLink(block)
                count &+= 1
                s[target &- count] = block
                continue
            }
            guard let local = page.pointee.localFree else { break }
            page.pointee.localFree = nil
            free = local
        }
        page.pointee.free = free
        page.pointee.used &+= UInt32(count &- before)
        return count
    }

    /// Carves never-used blocks of `page` straight into the bin's slots (no link to
    /// write and check) until `target` are there or the page has none left; returns
    /// the new count.
    @inline(__always)
    static func carve(_ page: UnsafeMutablePointer<Page>, into s: UnsafeMutablePointer<UnsafeMutableRawPointer>,
                      count: Int, target: Int) -> Int {
        let left = Pages.uncarved(page)
        let n = target &- count < left ? target &- count : left
        if n <= 0 { return count }
        var count = count
        let size = page.pointee.blockSize
        var block = Pages.carve(page, n)
        for _ in 0..<n {
            Block.tagFresh(block)
            count &+= 1
            s[target &- count] = block
            block += size
        }
        page.pointee.used &+= UInt32(n)
        return count
    }

    /// Returns all but the `keep` most recent blocks of bin `c` to their pages (the
    /// heap's own: a bin holds no other heap's block, see Bin).
    @inline(never)
    static func flush(_ heap: UnsafeMutablePointer<Heap>, _ c: Int, keep: Int) {
        let b = bin(heap, c)
        let s = slots(b)
        let count = Int(b.pointee.count)
        let leaving = count > keep ? count - keep : 0
        if leaving == 0 { return }
        for i in 0..<leaving { Free.freeLocal(heap, Free.pageOf(s[i]), s[i]) }
        for i in 0..<(count - leaving) { s[i] = s[i + leaving] }
        b.pointee.count = UInt32(count - leaving)
        heap.pointee.binnedCharge &-= leaving &* Int(b.pointee.charge)
    }

    /// Slow-path events between two decay steps.
    static let decayInterval = 64

    /// Counts one slow-path event of the calling thread's `heap`; every decayInterval
    /// events, one bin (round robin) gives its older half back to the pages. Blocks in
    /// a bin keep their pages from being released, and a bin that is not full never
    /// flushes on its own: without decay, a thread that once freed many blocks of a
    /// class (or freed into pages it adopted) would pin those pages for its lifetime.
    /// A class in steady use loses half a bin every 92 * 64 slow-path events, which
    /// the next fill restores. The step also collects the heap's remote frees.
    @inline(__always)
    static func tick(_ heap: UnsafeMutablePointer<Heap>) {
        heap.pointee.decayCountdown &-= 1
        if heap.pointee.decayCountdown <= 0 { decayStep(heap) }
    }

    @inline(never)
    static func decayStep(_ heap: UnsafeMutablePointer<Heap>) {
        heap.pointee.decayCountdown = decayInterval
        let c = heap.pointee.decayNext
        heap.pointee.decayNext = c &+ 1 == SizeClass.count ? 0 : c &+ 1
        let count = Int(bin(heap, c).pointee.count)
        if count > 0 { flush(heap, c, keep: count / 2) }
        // A thread that mostly frees would otherwise collect other threads' frees of
        // its blocks only when it next needs a page.
        if Heaps.hasRemote(heap) { Free.collectRemote(heap) }
    }

    /// Empties every bin of `heap` (thread exit, malloc_trim).
    static func flushAll(_ heap: UnsafeMutablePointer<Heap>) {
        for c in 0..<SizeClass.count where bin(heap, c).pointee.count > 0 {
            flush(heap, c, keep: 0)
        }
    }
}
