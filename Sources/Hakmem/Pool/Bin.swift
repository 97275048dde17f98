// Bin.swift -- per-thread LIFO caches of free Mid/L2.5 blocks (see Bin in
// Layout.swift). A bin is a stack of block pointers inside the heap: the owner's
// free of such a block is a push, malloc of such a size pops the most recently freed
// block. Neither reads the block (no cache miss on a cold block, no link to
// corrupt); the free tag written into the block still catches double frees. Bins
// are bounded per class and per heap; the oldest blocks of an overflowing bin go
// back to their pages.

enum Bins {
    /// Most blocks one bin holds (its slots in the heap).
    static let capacity = 64

    @inline(__always)
    static func bin(_ heap: UnsafeMutablePointer<Heap>, _ c: Int) -> UnsafeMutablePointer<Bin> {
        (UnsafeMutableRawPointer(heap) + Heap.binsOffset).assumingMemoryBound(to: Bin.self) + c
    }

    /// The slots of bin `c` (a Mid/L2.5 class): slots[0..<count], newest last.
    @inline(__always)
    static func slots(_ heap: UnsafeMutablePointer<Heap>, _ c: Int) -> UnsafeMutablePointer<UnsafeMutableRawPointer> {
        (UnsafeMutableRawPointer(heap) + Heap.binSlotsOffset + (c &- SizeClass.tinyCount) &* capacity &* 8)
            .assumingMemoryBound(to: UnsafeMutableRawPointer.self)
    }

    /// Sets every bin's limit and block size (a new heap's bins are empty).
    static func initialize(_ heap: UnsafeMutablePointer<Heap>) {
        for c in SizeClass.tinyCount..<SizeClass.count {
            // At least one block (a freed big block is reused before an untouched one),
            // unless the thread cache is disabled.
            let fit = Options.threadCacheBytes / 8 / SizeClass.blockSize(c)
            let limit = Options.threadCacheBytes == 0 ? 0 : fit < 1 ? 1 : fit > capacity ? capacity : fit
            bin(heap, c).pointee.limit = UInt16(limit)
            bin(heap, c).pointee.blockSize = UInt32(SizeClass.blockSize(c))
        }
    }

    /// The most recently freed block of class `c`, or nil.
    @inline(__always)
    static func pop(_ heap: UnsafeMutablePointer<Heap>, _ c: Int) -> UnsafeMutableRawPointer? {
        let b = bin(heap, c)
        let count = Int(b.pointee.count)
        if count == 0 { return nil }
        b.pointee.count = UInt16(truncatingIfNeeded: count &- 1)
        heap.pointee.binnedBytes &-= Int(b.pointee.blockSize)
        let block = slots(heap, c)[count &- 1]
        Block.clearFreeWords(block)
        return block
    }

    /// Caches a block the owner thread frees (already validated and tagged free);
    /// false if it is not cached (the class is not, or the heap's budget is spent: the
    /// bin is emptied then): the caller frees it to its page.
    @inline(__always)
    static func push(_ heap: UnsafeMutablePointer<Heap>, _ c: Int, _ block: UnsafeMutableRawPointer) -> Bool {
        let b = bin(heap, c)
        let limit = Int(b.pointee.limit)
        if heap.pointee.binnedBytes &+ Int(b.pointee.blockSize) > Options.threadCacheBytes {
            flush(heap, c, keep: 0)
            return false
        }
        if Int(b.pointee.count) >= limit {
            if limit == 0 { return false }
            flush(heap, c, keep: limit / 2)
        }
        let count = Int(b.pointee.count)
        slots(heap, c)[count] = block
        b.pointee.count = UInt16(truncatingIfNeeded: count &+ 1)
        heap.pointee.binnedBytes &+= Int(b.pointee.blockSize)
        return true
    }

    /// Returns all but the `keep` most recent blocks of bin `c` to their pages.
    @inline(never)
    static func flush(_ heap: UnsafeMutablePointer<Heap>, _ c: Int, keep: Int) {
        let b = bin(heap, c)
        let s = slots(heap, c)
        let count = Int(b.pointee.count)
        let leaving = count > keep ? count - keep : 0
        if leaving == 0 { return }
        for i in 0..<leaving { Free.freeLocal(heap, Free.pageOf(s[i]), s[i]) }
        for i in 0..<(count - leaving) { s[i] = s[i + leaving] }
        b.pointee.count = UInt16(count - leaving)
        heap.pointee.binnedBytes &-= leaving * Int(b.pointee.blockSize)
    }

    /// Empties every bin of `heap` (thread exit, malloc_trim).
    static func flushAll(_ heap: UnsafeMutablePointer<Heap>) {
        for c in SizeClass.tinyCount..<SizeClass.count where bin(heap, c).pointee.count > 0 {
            flush(heap, c, keep: 0)
        }
    }
}
