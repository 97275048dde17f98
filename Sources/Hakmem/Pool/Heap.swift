// Heap.swift -- per-thread heaps: creation (from a pool, never unmapped) and the page
// queues of each size class (the bins are in Bin.swift).
// Only the owner thread touches a heap's queues; other threads touch only
// `remoteFree` and `remoteMessages` (atomically).

import CHakmemShim

extension Page {
    /// `heap` value of a page that no thread owns (free, abandoned, or the sentinel).
    /// Never equal to a heap address, nor to the nil of a thread without a heap.
    static let noOwner: UInt = 1
}

enum Heaps {
    /// Heaps of exited threads, ready for reuse (under Locks.heapPool).
    nonisolated(unsafe) static var pool: UnsafeMutablePointer<Heap>?
    /// Unused part of the last chunk mapped for heaps (under Locks.heapPool).
    nonisolated(unsafe) static var chunkNext: UnsafeMutableRawPointer?
    nonisolated(unsafe) static var chunkLeft = 0
    static let chunkSize = 256 * 1024

    /// The calling thread's heap, or nil before its first slow path.
    @inline(__always)
    static func current() -> UnsafeMutablePointer<Heap>? {
        hak_tls_heap_get()?.assumingMemoryBound(to: Heap.self)
    }

    /// The calling thread's heap, created on first use; nil only if out of memory.
    @inline(__always)
    static func currentOrCreate() -> UnsafeMutablePointer<Heap>? {
        if let heap = current() { return heap }
        return createForThread()
    }

    @inline(never)
    static func createForThread() -> UnsafeMutablePointer<Heap>? {
        Startup.ensure()
        SpinLock.lock(Locks.heapPool)
        var heap = pool
        var fresh = false
        if let reused = heap {
            pool = reused.pointee.poolNext
        } else {
            fresh = true
            let size = (Heap.totalSize + 63) & ~63
            if chunkLeft < size {
                chunkNext = OS.map(size: chunkSize)
                chunkLeft = chunkNext == nil ? 0 : chunkSize
            }
            if let next = chunkNext, chunkLeft >= size {
                heap = next.assumingMemoryBound(to: Heap.self)
                chunkNext = next + size
                chunkLeft -= size
            }
        }
        SpinLock.unlock(Locks.heapPool)
        guard let heap else { return nil }
        reset(heap, fresh: fresh)
        hak_tls_heap_set(UnsafeMutableRawPointer(heap))
        Bins.attachDirect(heap)
        Stats.threadStarted()
        Startup.registerHooks()
        ThreadExit.attach(heap)
        return heap
    }

    /// Makes `heap` (fresh from the OS, or an exited thread's from the pool) a new,
    /// empty heap. Its fields and queues are cleared (not a fresh heap's: mmap memory
    /// is zero); its bins are left as they are: all zero in a fresh heap (set up on
    /// first use, Bins.prepared), emptied by the exit (Bins.flushAll) in a reused one,
    /// whose headers still hold for it. So a heap's untouched bin pages stay untouched.
    /// remoteFree and remoteMessages go from "abandoned" (or 0) to empty; stale pushes
    /// that land after this are re-dispatched by collectRemote.
    static func reset(_ heap: UnsafeMutablePointer<Heap>, fresh: Bool) {
        if !fresh {
            UnsafeMutableRawPointer(heap + 0).advanced(by: Heap.fullOffset)
                .initializeMemory(as: UInt8.self, repeating: 0, count: Heap.binsOffset - Heap.fullOffset)
        }
        _ = AtomicWord.exchange(remoteFreeWord(heap), 0)
        _ = AtomicWord.exchange(remoteMessagesWord(heap), 0)
    }

    /// Puts the heap of an exited thread back in the pool.
    static func recycle(_ heap: UnsafeMutablePointer<Heap>) {
        SpinLock.lock(Locks.heapPool)
        heap.pointee.poolNext = pool
        pool = heap
        SpinLock.unlock(Locks.heapPool)
    }

    @inline(__always)
    static func remoteFreeWord(_ heap: UnsafeMutablePointer<Heap>) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(heap)   // `remoteFree` is the first field
    }

    @inline(__always)
    static func remoteMessagesWord(_ heap: UnsafeMutablePointer<Heap>) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(heap) + Heap.remoteMessagesOffset
    }

    /// True if other threads have freed blocks of `heap` that collectRemote has not
    /// taken yet (a hint: relaxed loads).
    @inline(__always)
    static func hasRemote(_ heap: UnsafeMutablePointer<Heap>) -> Bool {
        AtomicWord.loadRelaxed(remoteFreeWord(heap)) | AtomicWord.loadRelaxed(remoteMessagesWord(heap)) != 0
    }

    // MARK: Queues

    @inline(__always)
    static func queue(_ heap: UnsafeMutablePointer<Heap>, _ sizeClass: Int) -> UnsafeMutablePointer<PageQueue> {
        (UnsafeMutableRawPointer(heap) + Heap.queuesOffset).assumingMemoryBound(to: PageQueue.self) + sizeClass
    }

    /// The heap's list of full pages.
    @inline(__always)
    static func fullQueue(_ heap: UnsafeMutablePointer<Heap>) -> UnsafeMutablePointer<PageQueue> {
        (UnsafeMutableRawPointer(heap) + Heap.fullOffset)
            .assumingMemoryBound(to: PageQueue.self)
    }

    static func pushFront(_ q: UnsafeMutablePointer<PageQueue>, _ page: UnsafeMutablePointer<Page>) {
        page.pointee.prev = nil
        page.pointee.next = q.pointee.first
        if let first = q.pointee.first { first.pointee.prev = page } else { q.pointee.last = page }
        q.pointee.first = page
    }

    static func pushBack(_ q: UnsafeMutablePointer<PageQueue>, _ page: UnsafeMutablePointer<Page>) {
        page.pointee.next = nil
        page.pointee.prev = q.pointee.last
        if let last = q.pointee.last { last.pointee.next = page } else { q.pointee.first = page }
        q.pointee.last = page
    }

    static func remove(_ q: UnsafeMutablePointer<PageQueue>, _ page: UnsafeMutablePointer<Page>) {
        if let p = page.pointee.prev { p.pointee.next = page.pointee.next } else { q.pointee.first = page.pointee.next }
        if let n = page.pointee.next { n.pointee.prev = page.pointee.prev } else { q.pointee.last = page.pointee.prev }
        page.pointee.next = nil
        page.pointee.prev = nil
    }
}
