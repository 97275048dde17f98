// Page.swift -- operations on one page: carving fresh blocks, moving the owner's
// local frees back into the allocation list.

enum Pages {
    /// Most bytes of fresh page memory linked into the free list at once: carving
    /// lazily keeps untouched memory untouched (and out of the RSS).
    static let extendBytes = 4096
    /// Blocks up to this size are carved at least 4 at a time; bigger ones one by one
    /// (linking a block writes into it: carving ahead would touch memory early).
    static let extendBatchMaxBlockSize = 4096

    /// Links up to a few KiB of never-used blocks into `page.free`, each tagged free
    /// (every block of a page's lists carries the free tag, see Layout.swift).
    /// Precondition: `page.free == nil && page.capacity < page.reserved`.
    static func extend(_ page: UnsafeMutablePointer<Page>) {
        let size = page.pointee.blockSize
        var count = extendBytes / size
        if count < 4 { count = size <= extendBatchMaxBlockSize ? 4 : 1 }
        let left = uncarved(page)
        if count > left { count = left }
        let first = carve(page, count)
        var block = first
        for _ in 1..<count {
            let next = block + size
            Block.setNext(block, next)
            Block.tagFree(block)
            block = next
        }
        Block.setNext(block, nil)
        Block.tagFree(block)
        page.pointee.free = first
    }

    /// Blocks of `page` never carved yet (reserved - capacity).
    @inline(__always)
    static func uncarved(_ page: UnsafeMutablePointer<Page>) -> Int {
        Int(page.pointee.reserved &- page.pointee.capacity)
    }

    /// Takes the next `count` never-used blocks of `page` (at most `uncarved(page)`):
    /// raises capacity and the block-start limits, and returns the first block. The
    /// blocks are untouched: the caller links or bins them.
    @inline(__always)
    static func carve(_ page: UnsafeMutablePointer<Page>, _ count: Int) -> UnsafeMutableRawPointer {
        let first = page.pointee.start.unsafelyUnwrapped + Int(page.pointee.capacity) &* page.pointee.blockSize
        page.pointee.capacity &+= UInt32(truncatingIfNeeded: count)
        // atomic (a plain mov on x86): other threads' frees read it (Free.freeOthers)
        AtomicWord.store(UnsafeMutableRawPointer(page) + Page.carvedLimitOffset,
                         UInt(page.pointee.capacity) &* divStep(page))
        updateFreeLimits(page)
        return first
    }

    /// Sets the page's flags (and with them freeLimit and binnedLimit, see Page).
    @inline(__always)
    static func setFlags(_ page: UnsafeMutablePointer<Page>, _ flags: UInt8) {
        page.pointee.flags = flags
        updateFreeLimits(page)
    }

    /// freeLimit and binnedLimit from the flags and carvedLimit (see Page).
    @inline(__always)
    static func updateFreeLimits(_ page: UnsafeMutablePointer<Page>) {
        let mode = page.pointee.flags & (PageFlags.binned | PageFlags.slowFree)
        page.pointee.freeLimit = mode == 0 ? page.pointee.carvedLimit : 0
        page.pointee.binnedLimit = mode == PageFlags.binned ? page.pointee.carvedLimit : 0
    }

    /// Refills `page.free` from the owner's local frees or fresh blocks.
    /// Returns false if the page is full.
    static func refill(_ page: UnsafeMutablePointer<Page>) -> Bool {
        if let local = page.pointee.localFree {
            page.pointee.free = local
            page.pointee.localFree = nil
            return true
        }
        if page.pointee.capacity < page.pointee.reserved {
            extend(page)
            return true
        }
        return false
    }

    /// Tiny pages start at most this far into their slice (see colourOffset).
    static let tinyColourSpan = 16 * 1024

    /// Where the first block of a new page lies past the page's first slice start: its
    /// cache colour. Every slice is 64 KiB-aligned, so without it the most-used first
    /// blocks of every class share the same L1 sets (set index = address bits 6...11,
    /// inside the 4 KiB OS page, so physical placement does not spread them) and, where
    /// memory is backed by huge pages (THP "always"), the same L2 sets (bits 6...15 of a
    /// 512 KiB 8-way L2). Cachegrind indexes by virtual address, as huge pages would:
    /// random_mixed ws=400 16..1040, L2 misses 1.45M -> 56K (tcmalloc 73K), L1 read
    /// misses 2.37M -> 2.22M. The colour spreads pages over 256 lines by their place
    /// (slice index, segment), rounded up to the block size's largest power-of-two
    /// factor, so blocks of aligned classes stay aligned (SizeClass.aligned). A Tiny
    /// page gives up to `tinyColourSpan` of its slice for it: address space only, since
    /// the skipped OS pages are never touched (less than 4 KiB of one touched OS page is
    /// lost). Other pages use only the bytes their blocks leave at the end (no block lost).
    static func colourOffset(segment: UInt, slice: Int, bytes: Int, sizeClass: Int) -> Int {
        let blockSize = SizeClass.blockSize(sizeClass)
        let unit = blockSize & -blockSize
        let line = (slice &* 41 &+ Int(truncatingIfNeeded: segment >> UInt(Geometry.segmentShift)) &* 23) & 255
        let colour = (line &* 64 &+ unit &- 1) & -unit
        if sizeClass < SizeClass.tinyCount { return colour & (tinyColourSpan - 1) }
        let spare = (bytes % blockSize) & -unit
        return colour < spare ? colour : spare
    }

    /// The block-start key of the byte `offset` into the page: `(offset / blockSize) *
    /// divStep` if offset is a multiple of blockSize, >= 2^64 / blockSize otherwise
    /// (see Page.divMagic). One multiplication, no division, no branch.
    @inline(__always)
    static func blockKey(_ page: UnsafeMutablePointer<Page>, offset: UInt) -> UInt {
        offset &* page.pointee.divMagic
    }

    /// The key distance between consecutive blocks (see Page.divMagic).
    @inline(__always)
    static func divStep(_ page: UnsafeMutablePointer<Page>) -> UInt {
        page.pointee.divMagic &* UInt(page.pointee.blockSize)
    }

    /// True if `address` is the start of a block carved from `page`. No nil test for
    /// `start`: the only descriptor without one that a lookup can return is the sentinel,
    /// whose carvedLimit is 0, so no key is below it.
    @inline(__always)
    static func isBlockStart(_ page: UnsafeMutablePointer<Page>, _ address: UInt) -> Bool {
        startKey(page, address) < page.pointee.carvedLimit
    }

    /// The block-start key of `address` counted from the page's start (compared with
    /// carvedLimit, or binnedLimit on the owner's Mid/L2.5 free path).
    @inline(__always)
    static func startKey(_ page: UnsafeMutablePointer<Page>, _ address: UInt) -> UInt {
        blockKey(page, offset: address &- UInt(bitPattern: page.pointee.start))
    }

    /// Sets the block-start constants of an empty page of `blockSize`-byte blocks
    /// (after its `start`, which keyBias depends on).
    static func setDivision(_ page: UnsafeMutablePointer<Page>, blockSize: Int) {
        page.pointee.divMagic = UInt.max / UInt(blockSize) &+ 2
        page.pointee.keyBias = (UInt(bitPattern: page.pointee.start) & UInt(Geometry.sliceSize - 1))
            &* page.pointee.divMagic
        page.pointee.carvedLimit = 0
    }

    /// The block-start key of `address` in a one-slice page, from its low 16 bits:
    /// `blockKey(address - start)` for an address at or past the start; for one below
    /// it (the page's colour, or a foreign pointer), `-(d * divMagic)` for its distance
    /// d < 16 KiB, which is at least 2^64 / blockSize - 2^18 (see Page.divMagic), so no
    /// carved limit accepts it. One multiplication and one subtraction.
    @inline(__always)
    static func tinyKey(_ page: UnsafeMutablePointer<Page>, _ address: UInt) -> UInt {
        blockKey(page, offset: address & UInt(Geometry.sliceSize - 1)) &- page.pointee.keyBias
    }

    /// The link of `block`, the head of `page.free`, checked to stay inside the page's
    /// carved blocks; nil at the end of the list. Reports a corrupted link.
    static func checkedNext(_ page: UnsafeMutablePointer<Page>, _ block: UnsafeMutableRawPointer)
        -> UnsafeMutableRawPointer? {
        guard let next = Block.next(block) else { return nil }
        if !isBlockStart(page, UInt(bitPattern: next)) {
            Report.fatal("free list corrupted (write after free?): bad link in free block",
                         pointer: block, detail: "block size ", value: UInt(page.pointee.blockSize))
        }
        return next
    }
}
