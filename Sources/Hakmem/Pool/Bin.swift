// Bin.swift -- per-thread LIFO caches of free Mid/L2.5 blocks (see Bin in
// Layout.swift). The owner's free of such a block is a push here; malloc of such a
// size pops the most recently freed block. Bins are bounded per class and per heap;
// the oldest blocks of an overflowing bin go back to their pages.

import CHakmemShim

enum Bins {
    @inline(__always)
    static func bin(_ heap: UnsafeMutablePointer<Heap>, _ c: Int) -> UnsafeMutablePointer<Bin> {
        (UnsafeMutableRawPointer(heap) + Heap.binsOffset).assumingMemoryBound(to: Bin.self) + c
    }

    /// Sets every bin's limit (a new heap's bins are empty).
    static func initialize(_ heap: UnsafeMutablePointer<Heap>) {
        for c in SizeClass.tinyCount..<SizeClass.count {
            // At least one block (a freed big block is reused before an untouched one),
            // unless the thread cache is disabled.
            let fit = Options.threadCacheBytes / 8 / SizeClass.blockSize(c)
            let limit = Options.threadCacheBytes == 0 ? 0 : fit < 1 ? 1 : fit > 64 ? 64 : fit
            bin(heap, c).pointee.limit = UInt32(limit)
        }
    }

    /// The most recently freed block of class `c`, or nil.
    @inline(__always)
    static func pop(_ heap: UnsafeMutablePointer<Heap>, _ c: Int) -> UnsafeMutableRawPointer? {
        let b = bin(heap, c)
        guard let block = b.pointee.head else { return nil }
        let next = Block.next(block)
        if let next, Segments.mapEntry(UInt(bitPattern: next)) != 1 || UInt(bitPattern: next) & 15 != 0 {
            Report.fatal("bin list corrupted (write after free?): bad link in free block", pointer: block,
                         detail: "size class ", value: UInt(c))
        }
        hak_prefetch(next)   // the next pop reads it; large blocks are rarely cached
        Block.clearFreeWords(block)
        b.pointee.head = next
        b.pointee.count &-= 1
        heap.pointee.binnedBytes &-= SizeClass.blockSize(c)
        return block
    }

    /// Caches a block the owner thread frees (already validated and tagged free).
    @inline(__always)
    static func push(_ heap: UnsafeMutablePointer<Heap>, _ c: Int, _ block: UnsafeMutableRawPointer) {
        let b = bin(heap, c)
        Block.setNext(block, b.pointee.head)
        b.pointee.head = block
        b.pointee.count &+= 1
        heap.pointee.binnedBytes &+= SizeClass.blockSize(c)
        if b.pointee.count > b.pointee.limit || heap.pointee.binnedBytes > Options.threadCacheBytes {
            flush(heap, c, keep: heap.pointee.binnedBytes > Options.threadCacheBytes ? 0 : Int(b.pointee.limit / 2))
        }
    }

    /// Returns all but the `keep` most recent blocks of bin `c` to their pages.
    @inline(never)
    static func flush(_ heap: UnsafeMutablePointer<Heap>, _ c: Int, keep: Int) {
        let b = bin(heap, c)
        var rest: UnsafeMutableRawPointer?
        if keep == 0 {
            rest = b.pointee.head
            b.pointee.head = nil
        } else {
            var last = b.pointee.head.unsafelyUnwrapped
            for _ in 1..<keep { last = Block.next(last).unsafelyUnwrapped }
            rest = Block.next(last)
            Block.setNext(last, nil)
        }
        let size = SizeClass.blockSize(c)
        while let block = rest {
            rest = Block.next(block)
            b.pointee.count &-= 1
            heap.pointee.binnedBytes &-= size
            Free.freeLocal(heap, Free.pageOf(block), block)
        }
    }

    /// Empties every bin of `heap` (thread exit, malloc_trim).
    static func flushAll(_ heap: UnsafeMutablePointer<Heap>) {
        for c in SizeClass.tinyCount..<SizeClass.count where bin(heap, c).pointee.count > 0 {
            flush(heap, c, keep: 0)
        }
    }
}
