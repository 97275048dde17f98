// Page.swift -- operations on one page: carving fresh blocks, moving the owner's
// local frees back into the allocation list.

enum Pages {
    /// Most bytes of fresh page memory linked into the free list at once: carving
    /// lazily keeps untouched memory untouched (and out of the RSS).
    static let extendBytes = 4096
    static let extendMinBlocks = 4

    /// Links up to a few KiB of never-used blocks into `page.free`.
    /// Precondition: `page.free == nil && page.capacity < page.reserved`.
    static func extend(_ page: UnsafeMutablePointer<Page>) {
        let size = page.pointee.blockSize
        var count = extendBytes / size
        if count < extendMinBlocks { count = extendMinBlocks }
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

    /// True if `address` is the start of a block carved from `page`.
    static func isBlockStart(_ page: UnsafeMutablePointer<Page>, _ address: UInt) -> Bool {
        guard let start = page.pointee.start, page.pointee.blockSize > 0 else { return false }
        let offset = address &- UInt(bitPattern: start)
        let size = UInt(page.pointee.blockSize)
        return offset < UInt(page.pointee.capacity) &* size && offset % size == 0
    }
}
