// Page.swift -- operations on one page: carving fresh blocks, moving the owner's
// local frees back into the allocation list.

enum Pages {
    /// Most bytes of fresh page memory linked into the free list at once: carving
    /// lazily keeps untouched memory untouched (and out of the RSS).
    static let extendBytes = 4096
    /// Blocks up to this size are carved at least 4 at a time; bigger ones one by one
    /// (linking a block writes into it: carving ahead would touch memory early).
    static let extendBatchMaxBlockSize = 4096

    /// Links up to a few KiB of never-used blocks into `page.free`.
    /// Precondition: `page.free == nil && page.capacity < page.reserved`.
    static func extend(_ page: UnsafeMutablePointer<Page>) {
        let size = page.pointee.blockSize
        var count = extendBytes / size
        if count < 4 { count = size <= extendBatchMaxBlockSize ? 4 : 1 }
        let left = Int(page.pointee.reserved &- page.pointee.capacity)
        if count > left { count = left }
        let first = page.pointee.start.unsafelyUnwrapped + Int(page.pointee.capacity) &* size
        var block = first
        for _ in 1..<count {
            let next = block + size
            Block.setNext(block, next)
            block = next
        }
        Block.setNext(block, nil)
        page.pointee.free = first
        page.pointee.capacity &+= UInt32(count)
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

    /// Index of the block starting `offset` bytes into the page; >= capacity if no
    /// carved block starts there (see Page.divInverse). No division, no branch.
    @inline(__always)
    static func blockIndex(_ page: UnsafeMutablePointer<Page>, offset: UInt) -> UInt {
        let product = offset &* page.pointee.divInverse
        let k = UInt(page.pointee.divShift)
        return (product &>> k) | (product &<< (64 &- k))
    }

    /// True if `address` is the start of a block carved from `page`.
    @inline(__always)
    static func isBlockStart(_ page: UnsafeMutablePointer<Page>, _ address: UInt) -> Bool {
        guard let start = page.pointee.start else { return false }
        return blockIndex(page, offset: address &- UInt(bitPattern: start)) < UInt(page.pointee.capacity)
    }

    /// Sets the division constants of a page of `blockSize`-byte blocks.
    static func setDivision(_ page: UnsafeMutablePointer<Page>, blockSize: Int) {
        let shift = UInt(blockSize.trailingZeroBitCount)
        let odd = UInt(blockSize) >> shift
        var inverse = odd                      // Newton: each step doubles the correct bits
        for _ in 0..<6 { inverse = inverse &* (2 &- odd &* inverse) }
        page.pointee.divInverse = inverse
        page.pointee.divShift = UInt8(shift)
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
