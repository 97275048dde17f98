// RemoteBatch.swift -- cross-thread frees, batched. A thread that frees blocks owned
// by another heap gathers consecutive ones for the same owner in a message
// (RemoteMessage) and publishes it to the owner's remoteMessages with a single CAS:
// when the message is full, when the owner changes, on the thread's next allocation
// slow path, and at thread exit. So a producer/consumer pair pays one atomic per
// message, not per block, and the freeing thread writes no link into the blocks (only
// the free tag, in the release build).

enum RemoteBatch {
    /// Frees a validated, tagged block of a page another heap owns: into the open
    /// message if it goes to the same owner (no call, no saved register), else `start`.
    @inline(__always)
    static func add(_ heap: UnsafeMutablePointer<Heap>, _ page: UnsafeMutablePointer<Page>,
                    _ block: UnsafeMutableRawPointer) {
        let owner = AtomicWord.load(Free.ownerWord(page))
        // (remoteBatchOwner is a heap whenever remoteBatch is not nil: never noOwner.)
        if owner == heap.pointee.remoteBatchOwner, let m = heap.pointee.remoteBatch {
            let count = m.pointee.count
            RemoteMessages.slots(m)[count] = block
            m.pointee.count = count &+ 1
            if count &+ 1 == RemoteMessages.capacity { flush(heap) }
            return
        }
        start(heap, page, block, owner: owner)
    }

    /// `add` when the block does not go into the open message: a block of an abandoned
    /// page is adopted with it (or freed under the lock); otherwise the open message is
    /// published and a new one opened for `owner`.
    @inline(never)
    static func start(_ heap: UnsafeMutablePointer<Heap>, _ page: UnsafeMutablePointer<Page>,
                      _ block: UnsafeMutableRawPointer, owner: UInt) {
        if owner == Page.noOwner {
            if heap.pointee.isExiting || !Abandoned.adoptAndFree(heap, page, block) {
                Free.freeRemote(page, block)
            }
            return
        }
        flush(heap)
        guard let m = RemoteMessages.take(heap) else {
            Free.freeRemote(page, block)   // out of memory for messages: one CAS per block
            return
        }
        RemoteMessages.slots(m)[0] = block
        m.pointee.count = 1
        heap.pointee.remoteBatch = m
        heap.pointee.remoteBatchOwner = owner
    }

    /// Publishes the pending message (if any) to its owner's remoteMessages.
    @inline(never)
    static func flush(_ heap: UnsafeMutablePointer<Heap>) {
        guard let m = heap.pointee.remoteBatch else { return }
        let owner = heap.pointee.remoteBatchOwner
        heap.pointee.remoteBatch = nil
        heap.pointee.remoteBatchOwner = 0
        if Free.pushMessage(owner: owner, m) { return }
        // The owner exited since: free each block on its own (its page is abandoned or
        // adopted by now).
        Free.freeEach(m)
        RemoteMessages.give(heap, m)
    }
}
