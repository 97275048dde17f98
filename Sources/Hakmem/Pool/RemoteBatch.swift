// RemoteBatch.swift -- cross-thread frees, batched. A thread that frees blocks owned
// by another heap chains consecutive ones for the same owner in its own heap and
// publishes the chain to the owner's remoteFree with a single CAS: when the chain
// reaches `limit` blocks, when the owner changes, on the thread's next allocation slow
// path, and at thread exit. So a producer/consumer pair pays one atomic per batch,
// not per block; at most `limit - 1` blocks wait in a batch.

enum RemoteBatch {
    static let limit = 32

    /// Frees a validated, tagged block of a page another heap owns.
    static func add(_ heap: UnsafeMutablePointer<Heap>, _ page: UnsafeMutablePointer<Page>,
                    _ block: UnsafeMutableRawPointer) {
        let owner = AtomicWord.load(Free.ownerWord(page))
        if owner == Page.noOwner {   // abandoned: adopt it, or the locked path
            if heap.pointee.isExiting || !Abandoned.adoptAndFree(heap, page, block) {
                Free.freeRemote(page, block)
            }
            return
        }
        if heap.pointee.remoteBatchOwner != owner {
            flush(heap)
            heap.pointee.remoteBatchOwner = owner
            heap.pointee.remoteBatchTail = block
            Block.setNext(block, nil)
        } else {
            Block.setNext(block, heap.pointee.remoteBatchHead)
        }
        heap.pointee.remoteBatchHead = block
        heap.pointee.remoteBatchCount &+= 1
        if heap.pointee.remoteBatchCount >= limit { flush(heap) }
    }

    /// Publishes the pending chain (if any) to its owner's remoteFree.
    static func flush(_ heap: UnsafeMutablePointer<Heap>) {
        guard let head = heap.pointee.remoteBatchHead, let tail = heap.pointee.remoteBatchTail else { return }
        let owner = heap.pointee.remoteBatchOwner
        heap.pointee.remoteBatchHead = nil
        heap.pointee.remoteBatchTail = nil
        heap.pointee.remoteBatchCount = 0
        heap.pointee.remoteBatchOwner = 0
        if Free.pushRemote(owner: owner, first: head, last: tail) { return }
        // The owner exited since: free each block on its own (its page is abandoned or
        // adopted by now).
        var block: UnsafeMutableRawPointer? = head
        while let b = block {
            block = b == tail ? nil : Block.next(b)
            Free.freeRemote(Free.pageOf(b), b)
        }
    }
}
