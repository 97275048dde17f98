// Abandon.swift -- what happens to a heap's pages when its thread exits.
//
// Empty pages go back to their segments. Pages with blocks still in use are
// *abandoned*: owner = Page.noOwner, kept on a per-class list under
// Locks.abandoned. Frees into an abandoned page happen under that lock; a thread
// that needs a page of the class adopts one (becomes its owner) before it asks the
// segments for a new page. So a dead thread leaves neither leaks nor a dangling
// owner.

import CHakmemShim
import Synchronization

enum Abandoned {
    /// Per size class, a list of abandoned pages (under Locks.abandoned). Stored in
    /// a mapped array on first use.
    nonisolated(unsafe) static var lists: UnsafeMutablePointer<PageQueue>?
    /// Number of abandoned pages (changed under the lock, read without it as a hint).
    static let count = Atomic<Int>(0)
    /// The number of abandoned pages now (statistics).
    static var pageCount: Int { count.load(ordering: .relaxed) }

    static func list(_ c: Int) -> UnsafeMutablePointer<PageQueue>? {
        if lists == nil {
            lists = OS.map(size: (SizeClass.count * MemoryLayout<PageQueue>.stride + 4095) & ~4095)?
                .assumingMemoryBound(to: PageQueue.self)
        }
        return lists.map { $0 + c }
    }

    /// Thread exit: releases or abandons every page of `heap`, then returns the heap
    /// to the pool. Runs on the exiting thread.
    static func abandonHeap(_ heap: UnsafeMutablePointer<Heap>) {
        heap.pointee.isExiting = true
        Free.collectRemote(heap)      // (into the bins: flushed next)
        Bins.flushAll(heap)
        RemoteBatch.flush(heap)       // the pending batch of other heaps' blocks
        SpinLock.lock(Locks.abandoned)
        for c in 0..<SizeClass.count { abandonQueue(Heaps.queue(heap, c)) }
        abandonQueue(Heaps.fullQueue(heap))
        SpinLock.unlock(Locks.abandoned)
        // From now on remote frees see the marker and go to the (abandoned) page.
        var messages = UnsafeMutablePointer<RemoteMessage>(bitPattern:
            AtomicWord.exchange(Heaps.remoteMessagesWord(heap), Heap.abandonedMarker))
        while let m = messages {
            messages = m.pointee.next
            Free.freeEach(m)
            RemoteMessages.give(heap, m)
        }
        var list = UnsafeMutableRawPointer(bitPattern:
            AtomicWord.exchange(Heaps.remoteFreeWord(heap), Heap.abandonedMarker))
        while let block = list {
            list = Free.checkedRemoteNext(block)
            Free.freeRemote(Free.pageOf(block), block)
        }
        RemoteMessages.giveAll(heap)
        Bins.detachDirect()
        hak_tls_heap_set(nil)
        Stats.threadExited()
        Heaps.recycle(heap)
    }

    /// Under Locks.abandoned: empties queue `q`, releasing empty pages and abandoning
    /// the others.
    static func abandonQueue(_ q: UnsafeMutablePointer<PageQueue>) {
        while let page = q.pointee.first {
            Heaps.remove(q, page)
            Pages.setFlags(page, page.pointee.flags & ~PageFlags.inFull)
            if page.pointee.used == 0 {
                Segments.releasePage(page)
                continue
            }
            AtomicWord.store(Free.ownerWord(page), Page.noOwner)
            guard let list = list(Int(page.pointee.sizeClass)) else { continue }   // cannot track: leak
            Heaps.pushFront(list, page)
            count.add(1, ordering: .relaxed)
        }
    }

    /// Frees `block` into `page` if the page is still abandoned; false if it has been
    /// adopted meanwhile (the caller retries with the new owner).
    static func free(_ page: UnsafeMutablePointer<Page>, _ block: UnsafeMutableRawPointer) -> Bool {
        SpinLock.lock(Locks.abandoned)
        defer { SpinLock.unlock(Locks.abandoned) }
        if AtomicWord.loadRelaxed(Free.ownerWord(page)) != Page.noOwner { return false }
        Block.setNext(block, page.pointee.localFree)
        page.pointee.localFree = block
        page.pointee.used &-= 1
        if page.pointee.used == 0, let list = list(Int(page.pointee.sizeClass)) {
            Heaps.remove(list, page)
            count.subtract(1, ordering: .relaxed)
            Segments.releasePage(page)
        }
        return true
    }

    /// A thread freeing into an abandoned page adopts it (larson's pattern: every round's
    /// new thread frees the previous thread's blocks), so its later frees into the page
    /// are local; then frees `block` locally. False if the page is not abandoned anymore.
    static func adoptAndFree(_ heap: UnsafeMutablePointer<Heap>, _ page: UnsafeMutablePointer<Page>,
                             _ block: UnsafeMutableRawPointer) -> Bool {
        SpinLock.lock(Locks.abandoned)
        guard AtomicWord.loadRelaxed(Free.ownerWord(page)) == Page.noOwner,
              let list = list(Int(page.pointee.sizeClass)) else {
            SpinLock.unlock(Locks.abandoned)
            return false
        }
        Heaps.remove(list, page)
        count.subtract(1, ordering: .relaxed)
        AtomicWord.store(Free.ownerWord(page), UInt(bitPattern: heap))
        SpinLock.unlock(Locks.abandoned)
        // Owned now: into the class queue, or the full list if no block is free.
        let c = Int(page.pointee.sizeClass)
        if page.pointee.free != nil || page.pointee.localFree != nil || page.pointee.capacity < page.pointee.reserved {
            Heaps.pushBack(Heaps.queue(heap, c), page)
        } else {
            Pages.setFlags(page, page.pointee.flags | PageFlags.inFull)
            Heaps.pushFront(Heaps.fullQueue(heap), page)
        }
        Free.freeLocal(heap, page, block)
        return true
    }

    /// Takes an abandoned page of class `c` (if any) and makes `heap` its owner.
    static func adopt(_ c: Int, heap: UnsafeMutablePointer<Heap>) -> UnsafeMutablePointer<Page>? {
        if count.load(ordering: .relaxed) == 0 { return nil }
        SpinLock.lock(Locks.abandoned)
        defer { SpinLock.unlock(Locks.abandoned) }
        guard let list = list(c), let page = list.pointee.first else { return nil }
        Heaps.remove(list, page)
        count.subtract(1, ordering: .relaxed)
        AtomicWord.store(Free.ownerWord(page), UInt(bitPattern: heap))
        return page
    }
}

/// Thread-exit hook: a pthread key whose destructor abandons the thread's heap.
enum ThreadExit {
    nonisolated(unsafe) static var key = pthread_key_t()

    static func register() {
        _ = pthread_key_create(&key) { value in
            guard let value else { return }
            let heap = value.assumingMemoryBound(to: Heap.self)
            if Heaps.current() == heap { Abandoned.abandonHeap(heap) }
        }
    }

    /// Arms the destructor for the calling thread.
    static func attach(_ heap: UnsafeMutablePointer<Heap>) {
        _ = pthread_setspecific(key, UnsafeRawPointer(heap))
    }
}
