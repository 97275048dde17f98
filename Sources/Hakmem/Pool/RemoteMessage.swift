// RemoteMessage.swift -- the containers in which blocks freed by one thread travel to
// the heap that owns them (RemoteBatch fills them, Free.collectRemote empties them).
//
// A message is an array of block pointers in allocator memory, not a chain of links
// written into the blocks: the freeing thread writes no link into the blocks it sends,
// and the owner reads the message's few lines instead of chasing one link per block
// through lines another core last wrote (bench_remote_free pc 4T: 75 % of
// collectRemote's samples were on that link load). Empty messages stay with the heap
// that emptied them (`Heap.spareMessages`); a heap with too many gives a chain of
// them to a global pool, one with none takes a chain from it (one lock per chain).

enum RemoteMessages {
    /// Bytes per message: the header and `capacity` block pointers.
    static let size = 256
    static let capacity = (size - MemoryLayout<RemoteMessage>.stride) / MemoryLayout<UnsafeMutableRawPointer>.stride
    /// Messages moved between a heap and the pool at a time.
    static let chainLength = 8
    /// A heap keeps at most this many empty messages.
    static let spareMax = 2 * chainLength
    /// Bytes mapped for messages at a time.
    static let chunkSize = 64 * 1024

    /// Chains of empty messages (under Locks.messages): each chain's messages are
    /// linked by `next`, the chains by their first message's `nextChain`.
    nonisolated(unsafe) static var chains: UnsafeMutablePointer<RemoteMessage>?
    /// Unused part of the last chunk mapped for messages (under Locks.messages).
    nonisolated(unsafe) static var chunkNext: UnsafeMutableRawPointer?
    nonisolated(unsafe) static var chunkLeft = 0

    /// The block pointers of message `m`.
    @inline(__always)
    static func slots(_ m: UnsafeMutablePointer<RemoteMessage>) -> UnsafeMutablePointer<UnsafeMutableRawPointer> {
        (UnsafeMutableRawPointer(m) + MemoryLayout<RemoteMessage>.stride)
            .assumingMemoryBound(to: UnsafeMutableRawPointer.self)
    }

    /// An empty message for `heap` to fill: a spare one, else a chain from the pool or
    /// a new chunk; nil only if out of memory.
    static func take(_ heap: UnsafeMutablePointer<Heap>) -> UnsafeMutablePointer<RemoteMessage>? {
        if heap.pointee.spareMessages == nil {
            guard let chain = takeChain() else { return nil }
            var n = 0
            var m: UnsafeMutablePointer<RemoteMessage>? = chain
            while let x = m { n &+= 1; m = x.pointee.next }
            heap.pointee.spareMessages = chain
            heap.pointee.spareCount = n
        }
        let m = heap.pointee.spareMessages.unsafelyUnwrapped
        heap.pointee.spareMessages = m.pointee.next
        heap.pointee.spareCount &-= 1
        m.pointee.next = nil
        m.pointee.count = 0
        return m
    }

    /// Keeps the emptied message `m` as one of `heap`'s spares; beyond spareMax, a
    /// chain of them goes back to the pool.
    static func give(_ heap: UnsafeMutablePointer<Heap>, _ m: UnsafeMutablePointer<RemoteMessage>) {
        m.pointee.next = heap.pointee.spareMessages
        heap.pointee.spareMessages = m
        heap.pointee.spareCount &+= 1
        if heap.pointee.spareCount > spareMax {
            // The newest chainLength spares (still in this core's cache) stay.
            var last = m
            for _ in 1..<chainLength { last = last.pointee.next.unsafelyUnwrapped }
            let rest = last.pointee.next.unsafelyUnwrapped
            last.pointee.next = nil
            heap.pointee.spareCount = chainLength
            giveChain(rest)
        }
    }

    /// Thread exit: every spare of `heap` goes back to the pool.
    static func giveAll(_ heap: UnsafeMutablePointer<Heap>) {
        guard let spares = heap.pointee.spareMessages else { return }
        heap.pointee.spareMessages = nil
        heap.pointee.spareCount = 0
        giveChain(spares)
    }

    static func giveChain(_ chain: UnsafeMutablePointer<RemoteMessage>) {
        SpinLock.lock(Locks.messages)
        chain.pointee.nextChain = chains
        chains = chain
        SpinLock.unlock(Locks.messages)
    }

    /// A chain of empty messages from the pool, or carved from a (new) chunk.
    static func takeChain() -> UnsafeMutablePointer<RemoteMessage>? {
        SpinLock.lock(Locks.messages)
        defer { SpinLock.unlock(Locks.messages) }
        if let chain = chains {
            chains = chain.pointee.nextChain
            return chain
        }
        if chunkLeft < chainLength * size {
            chunkNext = OS.map(size: chunkSize)
            chunkLeft = chunkNext == nil ? 0 : chunkSize
        }
        guard let base = chunkNext, chunkLeft >= chainLength * size else { return nil }
        chunkNext = base + chainLength * size
        chunkLeft -= chainLength * size
        for i in 0..<chainLength {
            let m = (base + i * size).assumingMemoryBound(to: RemoteMessage.self)
            m.initialize(to: RemoteMessage(
                next: i + 1 < chainLength ? (base + (i + 1) * size).assumingMemoryBound(to: RemoteMessage.self) : nil,
                nextChain: nil, count: 0))
        }
        return base.assumingMemoryBound(to: RemoteMessage.self)
    }
}
