// In-process tests of the allocator logic: the same Swift sources as libhakmem.so,
// compiled as an ordinary module and driven through the hak_* entry points (the
// test process itself keeps glibc's malloc).
import Testing
import Foundation
@testable import HakmemTestable

/// Runs `body` on a new thread and waits for it (the thread exits afterwards, so its
/// heap is abandoned).
func onNewThread(_ body: @escaping @Sendable () -> Void) {
    let done = DispatchSemaphore(value: 0)
    let thread = Thread { body(); done.signal() }
    thread.start()
    done.wait()
    usleep(20_000)   // let the thread's key destructor run
}

struct SendablePointer: @unchecked Sendable { let p: UnsafeMutableRawPointer }

func page(of p: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Page> {
    let header = Segments.header(containing: UInt(bitPattern: p))!
    return Free.validPage(header, p, operation: "test")
}

@Suite(.serialized) struct AllocatorTests {
    @Test func smallBlocksAreAlignedDistinctAndKeepTheirContents() {
        var blocks: [(UnsafeMutableRawPointer, Int)] = []
        for i in 0..<5000 {
            let size = (i * 37) % 2000
            let p = hak_malloc(UInt(size))!
            #expect(UInt(bitPattern: p) % 16 == 0)
            #expect(hak_malloc_usable_size(p) >= UInt(size))
            memset(p, Int32(i & 0xff), size)
            blocks.append((p, size))
        }
        #expect(Set(blocks.map { $0.0 }).count == blocks.count)
        for (i, (p, size)) in blocks.enumerated() {
            let bytes = p.assumingMemoryBound(to: UInt8.self)
            #expect((0..<size).allSatisfy { bytes[$0] == UInt8(i & 0xff) })
        }
        let heap = Heaps.current()!
        #expect(Invariants.check(heap: heap) == nil)
        for (p, _) in blocks { hak_free(p) }
        #expect(Invariants.check(heap: heap) == nil)
    }

    @Test func tinyPagesOfDifferentClassesStartOnDifferentCacheLines() {
        // Every slice is 64 KiB-aligned; without colours the first block of every
        // class would sit in the same L1 and L2 cache sets.
        let blocks = (0..<SizeClass.tinyCount).map { hak_malloc(UInt(SizeClass.blockSize($0)))! }
        let starts = Set(blocks.map { UInt(bitPattern: page(of: $0).pointee.start) & UInt(Geometry.sliceSize - 1) })
        #expect(starts.count >= SizeClass.tinyCount / 2)
        for p in blocks {
            #expect(UInt(bitPattern: page(of: p).pointee.start) & 15 == 0)
            hak_free(p)
        }
        #expect(Invariants.check(heap: Heaps.current()!) == nil)
    }

    @Test func fullPagesLeaveTheQueueAndComeBack() {
        let c = SizeClass.of(512)
        let perPage = Geometry.sliceSize / 512
        var blocks = (0..<(perPage * 3)).map { _ in hak_malloc(512)! }
        let heap = Heaps.current()!
        var fullCount = 0
        var p = Heaps.fullQueue(heap).pointee.first
        while let page = p { if Int(page.pointee.sizeClass) == c { fullCount += 1 }; p = page.pointee.next }
        #expect(fullCount >= 2)
        #expect(Invariants.check(heap: heap) == nil)
        // Free one block of a full page: it goes to the thread's bin (the page stays
        // full); once the bin is flushed, the page returns to its queue.
        let victim = blocks.removeFirst()
        let victimPage = page(of: victim)
        #expect(victimPage.pointee.flags & PageFlags.inFull != 0)
        hak_free(victim)
        #expect(victimPage.pointee.flags & PageFlags.inFull != 0)
        #expect(Bins.bin(heap, c).pointee.count >= 1)
        #expect(Invariants.check(heap: heap) == nil)
        Bins.flushAll(heap)
        #expect(victimPage.pointee.flags & PageFlags.inFull == 0)
        #expect(Bins.bin(heap, c).pointee.count == 0)
        #expect(Invariants.check(heap: heap) == nil)
        for b in blocks { hak_free(b) }
        #expect(Invariants.check(heap: heap) == nil)
    }

    @Test func freedBlocksOfAnyPageOfTheClassAreReusedBeforeFreshOnesAreCarved() {
        onNewThread {
            let size = 512
            let c = SizeClass.of(size)
            var blocks = [hak_malloc(UInt(size))!]
            let heap = Heaps.current()!
            let a = page(of: blocks[0])
            // Page `a` full, a second page `b` started (first in the class queue).
            while page(of: blocks.last!) == a { blocks.append(hak_malloc(UInt(size))!) }
            let b = page(of: blocks.last!)
            #expect(Heaps.queue(heap, c).pointee.first == b)
            // Empty the bin and b's lists: b now only has never-used blocks left.
            while Bins.bin(heap, c).pointee.count > 0 { blocks.append(hak_malloc(UInt(size))!) }
            #expect(b.pointee.free == nil && b.pointee.localFree == nil && Pages.uncarved(b) > 0)
            // Four blocks of `a` go back to it (through the bin), one stays in use.
            let freed = blocks.filter { page(of: $0) == a }.prefix(4)
            for p in freed { hak_free(p) }
            Bins.flush(heap, c, keep: 0)
            #expect(a.pointee.localFree != nil)
            let carved = b.pointee.capacity
            let next = hak_malloc(UInt(size))!
            #expect(page(of: next) == a)              // a freed block, not a fresh one of b
            #expect(b.pointee.capacity == carved)
            #expect(Invariants.check(heap: heap) == nil)
            hak_free(next)
            for p in blocks where !freed.contains(p) { hak_free(p) }
            #expect(Invariants.check(heap: heap) == nil)
        }
    }

    @Test func tinyBinsAreLIFOAndBounded() {
        let c = SizeClass.of(80)
        let heap = Heaps.currentOrCreate()!
        let bin = Bins.prepared(heap, c)   // (set up on first use)
        let limit = Int(bin.pointee.limit)
        #expect(limit > 2 && limit <= Bins.capacity)
        // The most recently freed block is the next one handed out.
        let a = hak_malloc(80)!, b = hak_malloc(80)!
        hak_free(a); hak_free(b)
        #expect(hak_malloc(80) == b)
        #expect(hak_malloc(80) == a)
        // An empty bin is filled with a batch from a page.
        Bins.flushAll(heap)
        let first = hak_malloc(80)!
        #expect(Int(bin.pointee.count) == limit / 2)
        #expect(Invariants.check(heap: heap) == nil)
        // Freeing more than the limit: the bin never exceeds it, the overflow goes
        // back to the pages.
        var blocks = [first]
        for _ in 0..<(3 * limit) { blocks.append(hak_malloc(80)!) }
        for p in blocks {
            hak_free(p)
            #expect(Int(bin.pointee.count) <= limit)
        }
        #expect(Int(bin.pointee.count) > 0)
        #expect(Invariants.check(heap: heap) == nil)
    }

    @Test func remoteFreesAreCollectedByTheOwner() {
        let blocks = (0..<1000).map { _ in SendablePointer(p: hak_malloc(48)!) }
        let owner = Heaps.current()!
        let pg = page(of: blocks[0].p)
        let usedBefore = pg.pointee.used
        let collectedBefore = owner.pointee.collected
        onNewThread { for b in blocks { hak_free(b.p) } }
        // Nothing changed on the owner's pages yet: the blocks wait in remoteFree.
        #expect(pg.pointee.used == usedBefore)
        #expect(Heaps.hasRemote(owner))
        Free.collectRemote(owner)
        #expect(owner.pointee.collected - collectedBefore == 1000)
        #expect(!Heaps.hasRemote(owner))
        #expect(Invariants.check(heap: owner) == nil)
    }

    @Test func remoteFreesTravelInMessagesWithoutWritingIntoTheBlocks() {
        let owner = Heaps.currentOrCreate()!
        Free.collectRemote(owner)
        // Mid blocks (never kept in another thread's bins), each with a pattern in word 0.
        let n = 3 * RemoteMessages.capacity + 5
        let blocks = (0..<n).map { i -> SendablePointer in
            let p = hak_malloc(4000)!
            p.storeBytes(of: 0x5151_0000 + UInt(i), as: UInt.self)
            return SendablePointer(p: p)
        }
        let sparesBefore = owner.pointee.spareCount
        let collectedBefore = owner.pointee.collected
        onNewThread { for b in blocks { hak_free(b.p) } }
        // The freer's exit publishes its last message too (polled, up to 5 s); nothing
        // reached the pages.
        func pendingMessages() -> Int {
            var n = 0
            var m = UnsafeMutablePointer<RemoteMessage>(bitPattern: AtomicWord.load(Heaps.remoteMessagesWord(owner)))
            while let x = m { n += 1; m = x.pointee.next }
            return n
        }
        let expected = (n + RemoteMessages.capacity - 1) / RemoteMessages.capacity
        var polls = 0
        while pendingMessages() < expected && polls < 500 { usleep(10_000); polls += 1 }
        #expect(pendingMessages() == expected)
        #expect(AtomicWord.load(Heaps.remoteFreeWord(owner)) == 0)   // no single-block pushes
        // The freeing thread wrote nothing into word 0 (no link through the blocks).
        for (i, b) in blocks.enumerated() { #expect(b.p.load(as: UInt.self) == 0x5151_0000 + UInt(i)) }
        Free.collectRemote(owner)
        #expect(owner.pointee.collected - collectedBefore == UInt(n))
        #expect(!Heaps.hasRemote(owner))
        // The emptied messages became the owner's spares (a chain beyond spareMax went
        // back to the pool).
        #expect(owner.pointee.spareCount > sparesBefore || owner.pointee.spareCount == RemoteMessages.chainLength)
        #expect(owner.pointee.spareCount <= RemoteMessages.spareMax)
        #expect(Invariants.check(heap: owner) == nil)
    }

    @Test func aMessageForAnOwnerThatExitedFreesItsBlocksIntoTheAbandonedPage() {
        let blocks = LockedBox()
        let allocated = DispatchSemaphore(value: 0), freedSome = DispatchSemaphore(value: 0)
        let ownerMayExit = DispatchSemaphore(value: 0)
        let ownerGone = DispatchSemaphore(value: 0), freerDone = DispatchSemaphore(value: 0)
        Thread {   // the owner
            blocks.set((0..<100).map { _ in SendablePointer(p: hak_malloc(4000)!) })
            allocated.signal()
            ownerMayExit.wait()
        }.start()
        allocated.wait()
        let all = blocks.get()
        let pg = page(of: all[0].p)
        let onPage = all.filter { page(of: $0.p) == pg }
        Thread {   // the freer: 10 blocks wait in its open message while the owner exits
            for b in onPage.prefix(10) { hak_free(b.p) }
            freedSome.signal()
            ownerGone.wait()
            freerDone.signal()   // its exit publishes the message: the owner is gone
        }.start()
        freedSome.wait()
        ownerMayExit.signal()
        // The owner's key destructor abandons its pages (polled, up to 5 s; under the
        // lock that guards abandoned pages).
        func usedIfAbandoned() -> UInt32? {
            SpinLock.lock(Locks.abandoned)
            defer { SpinLock.unlock(Locks.abandoned) }
            return AtomicWord.load(Free.ownerWord(pg)) == Page.noOwner ? pg.pointee.used : nil
        }
        var polls = 0
        while usedIfAbandoned() == nil && polls < 500 { usleep(10_000); polls += 1 }
        let usedAtAbandon = usedIfAbandoned()
        #expect(usedAtAbandon != nil)
        ownerGone.signal()
        freerDone.wait()
        // The freer's exit: the push fails, each block is freed on its own.
        polls = 0
        while usedIfAbandoned() != usedAtAbandon.map({ $0 - 10 }) && polls < 500 { usleep(10_000); polls += 1 }
        #expect(usedIfAbandoned() == usedAtAbandon.map { $0 - 10 })
        for b in all where !onPage.prefix(10).contains(where: { $0.p == b.p }) { hak_free(b.p) }
        #expect(Invariants.check(heap: Heaps.currentOrCreate()!) == nil)
    }

    @Test func theMessagePoolMovesChainsAndBoundsEachHeapsSpares() {
        let heap = Heaps.currentOrCreate()!
        var taken: [UnsafeMutablePointer<RemoteMessage>] = []
        for _ in 0..<(3 * RemoteMessages.spareMax) { taken.append(RemoteMessages.take(heap)!) }
        #expect(Set(taken.map { UInt(bitPattern: $0) }).count == taken.count)
        for m in taken {
            #expect(m.pointee.count == 0)
            #expect(UInt(bitPattern: m) % UInt(RemoteMessages.size) == 0)   // whole cache lines, none shared
        }
        for m in taken {
            RemoteMessages.give(heap, m)
            #expect(heap.pointee.spareCount <= RemoteMessages.spareMax)
        }
        // A full message holds `capacity` blocks inside its `size` bytes.
        #expect(MemoryLayout<RemoteMessage>.stride + RemoteMessages.capacity * 8 <= RemoteMessages.size)
    }

    @Test func aThreadThatOnlyFreesGetsAHeapAndBatchesItsRemoteFrees() {
        let block = SendablePointer(p: hak_malloc(4000)!)   // a Mid block: never kept in bins
        let tiny = SendablePointer(p: hak_malloc(48)!)
        let owner = Heaps.current()!
        Free.collectRemote(owner)
        let ownerHeap = SendablePointer(p: UnsafeMutableRawPointer(owner))
        let facts = FlagBox()
        onNewThread {
            let hadHeap = Heaps.current() != nil
            hak_free(block.p)
            // The first free made the thread's heap; the block waits in its remote
            // batch (one CAS per batch), not on the owner's remoteFree (a CAS per block).
            let heap = Heaps.current()
            let batched = !Heaps.hasRemote(ownerHeap.p.assumingMemoryBound(to: Heap.self))
            // A thread that has not allocated keeps no other heap's Tiny block in its
            // bins (it would pin them): the block joins the batch.
            hak_free(tiny.p)
            let binEmpty = heap.map { Bins.bin($0, SizeClass.of(48)).pointee.count == 0 } ?? false
            facts.set([hadHeap, heap != nil, batched, binEmpty])
        }
        #expect(facts.get() == [false, true, true, true])
        // The thread's exit flushed the batch to the owner.
        #expect(Heaps.hasRemote(owner))
        Free.collectRemote(owner)
        #expect(Invariants.check(heap: owner) == nil)
    }

    @Test func twoThreadsThatExchangeTinyBlocksSendEachOthersHome() {
        let block = SendablePointer(p: hak_malloc(48)!)
        let owner = Heaps.current()!
        let c = SizeClass.of(48)
        let seen = LockedBox()
        let theirs = LockedBox()
        let gave = DispatchSemaphore(value: 0), freed = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        Thread {
            let mine = hak_malloc(48)!   // (a thread gets its heap on its first malloc)
            theirs.set([SendablePointer(p: hak_malloc(48)!)])
            gave.signal()
            freed.wait()                 // the owner freed one of this thread's blocks
            hak_free(block.p)
            // The block goes home (the remote batch), not into this thread's bin: kept
            // there, it made bench_remote_free ring T=2's peak RSS 1.1 MB higher and was
            // no faster once remote frees travelled in messages (docs/perf-log.md).
            let again = hak_malloc(48)!
            seen.set([SendablePointer(p: again)])
            hak_free(again)
            hak_free(mine)
            done.signal()
        }.start()
        gave.wait()
        hak_free(theirs.get()[0].p)
        freed.signal()
        done.wait()
        usleep(20_000)   // let the thread's key destructor run
        #expect(seen.get().first != nil && seen.get().first?.p != block.p)
        // The thread exited: its remote batch went out to the owner.
        #expect(Heaps.hasRemote(owner))
        Free.collectRemote(owner)
        let bin = Bins.bin(owner, c)
        let slots = Bins.slots(bin)
        #expect((0..<Int(bin.pointee.count)).contains { slots[$0] == block.p })
        #expect(Invariants.check(heap: owner) == nil)
        let back = hak_malloc(48)
        #expect(back == block.p)   // and the owner reuses it first
        hak_free(back)
    }

    @Test func aTinyBlockOfAThreadThatFreesNoneOfOursGoesBackToItsOwner() {
        let c = SizeClass.of(48)
        let block = LockedBox(), home = LockedBox(), kept = FlagBox()
        let allocated = DispatchSemaphore(value: 0), freed = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        // The owner: a new thread (no heap's partner yet), alive while the other frees.
        Thread {
            block.set([SendablePointer(p: hak_malloc(48)!)])
            allocated.signal()
            freed.wait()
            Free.collectRemote(Heaps.current()!)
            let bin = Bins.bin(Heaps.current()!, c)
            let slots = Bins.slots(bin)
            home.set((0..<Int(bin.pointee.count)).map { SendablePointer(p: slots[$0]) })
            done.signal()
        }.start()
        allocated.wait()
        onNewThread {
            let mine = hak_malloc(48)!
            let p = block.get()[0].p
            hak_free(p)
            // Not kept in this thread's bin: where blocks travel on (a ring of threads),
            // the owner would not get them back while its pages fill with the blocks this
            // thread frees there.
            let bin = Bins.bin(Heaps.current()!, c)
            let slots = Bins.slots(bin)
            let again = hak_malloc(48)!
            kept.set([(0..<Int(bin.pointee.count)).contains { slots[$0] == p } || again == p])
            hak_free(again)
            hak_free(mine)
        }
        freed.signal()   // (the freeing thread exited: its remote batch went out)
        done.wait()
        #expect(kept.get() == [false])
        #expect(home.get().contains { $0.p == block.get()[0].p })
    }

    @Test func aFreshHeapMakesABinPageResidentOnlyWhenItsClassIsFirstUsed() {
        hak_free(hak_malloc(1))   // start-up done (Options set)
        let size = (Heap.totalSize + 4095) & ~4095
        let raw = OS.map(size: size)!   // zero, as the heap chunks are
        defer { OS.unmap(raw, size: size) }
        let heap = raw.assumingMemoryBound(to: Heap.self)
        // Pages wholly inside the bins (the first one may share a page with the fields).
        let first = (Heap.binsOffset + 4095) & ~4095
        func residentBinPages() -> Int {
            var vec = [UInt8](repeating: 0, count: (size - first) / 4096)
            #expect(mincore(raw + first, size - first, &vec) == 0)
            return vec.filter { $0 & 1 != 0 }.count
        }
        Heaps.reset(heap, fresh: true)
        #expect(residentBinPages() == 0)
        let c = SizeClass.count - 1            // the last bin: on a page of its own
        #expect(Bins.offset(c) >= first)
        let bin = Bins.prepared(heap, c)
        #expect(bin == Bins.bin(heap, c) && bin.pointee.heap == heap)
        #expect(bin.pointee.blockSize == UInt32(SizeClass.blockSize(c)) && bin.pointee.limit >= 1)
        #expect(bin.pointee.charge == UInt32(Bins.charge(c)) && bin.pointee.count == 0)
        #expect(residentBinPages() == 1)
        // Unused bins stay all zero: empty, and they take no block.
        let other = Bins.bin(heap, c - 1)
        #expect(other.pointee.blockSize == 0 && other.pointee.limit == 0 && other.pointee.heap == nil)
        #expect(!Bins.offer(heap, bin: other, raw))
        #expect(residentBinPages() == 1)
        #expect(Bins.prepared(heap, c) == bin && bin.pointee.limit >= 1)
    }

    @Test func aDecayStepGivesBackTheOlderHalfOfOneBin() {
        let heap = Heaps.currentOrCreate()!
        let c = SizeClass.of(200)
        Bins.flushAll(heap)
        let blocks = (0..<20).map { _ in hak_malloc(200)! }
        Bins.flushAll(heap)
        for b in blocks { hak_free(b) }
        let bin = Bins.bin(heap, c)
        #expect(bin.pointee.count == 20)
        // Walk the round robin to class c: the step there halves the bin, keeping the
        // most recently freed blocks.
        heap.pointee.decayNext = c
        Bins.decayStep(heap)
        #expect(bin.pointee.count == 10)
        #expect(Bins.slots(bin)[9] == blocks[19])
        #expect(Invariants.check(heap: heap) == nil)
        Bins.flushAll(heap)
    }

    @Test func anExitedThreadsPagesAreAbandonedThenFreedAndAdopted() {
        let box = LockedBox()
        onNewThread {
            let list = (0..<300).map { _ in SendablePointer(p: hak_malloc(2000)!) }
            box.set(list)
        }
        let blocks = box.get()
        #expect(Abandoned.count.load(ordering: .relaxed) > 0)
        let pg = page(of: blocks[149].p)
        #expect(AtomicWord.load(Free.ownerWord(pg)) == Page.noOwner)
        // Free half into the abandoned pages (under the abandoned lock) ...
        for b in blocks.prefix(150) { hak_free(b.p) }
        #expect(pg.pointee.used > 0)   // a page that still has live blocks
        #expect(Invariants.check(pg) == nil)
        // ... then a new allocation of the same class adopts one of them.
        let q = hak_malloc(2000)!
        let adopted = page(of: q)
        #expect(AtomicWord.load(Free.ownerWord(adopted)) == UInt(bitPattern: Heaps.current()!))
        hak_free(q)
        for b in blocks.dropFirst(150) { hak_free(b.p) }
        #expect(Invariants.check(heap: Heaps.current()!) == nil)
    }

    @Test func aBufferGrownInSmallStepsMovesAtMostFourTimesPerDoubling() {
        var p = hak_malloc(1024)!
        p.storeBytes(of: 0x5a, as: UInt8.self)
        var moves = 0
        for size in stride(from: 1040, through: 2048, by: 16) {
            let q = hak_realloc(p, UInt(size))!
            if q != p { moves += 1 }
            #expect(q.load(as: UInt8.self) == 0x5a)
            p = q
        }
        // 1024 -> 2048 spans 8 classes; each move takes a quarter more room.
        #expect(moves >= 1 && moves <= 4, "moves \(moves)")
        hak_free(p)
    }

    @Test func reallocReturnsAnOutgrownMidBlockToItsPageNotTheBin() {
        let heap = Heaps.currentOrCreate()!
        let p = hak_malloc(4000)!
        let bin = Bins.bin(heap, SizeClass.of(4000))
        let binned = bin.pointee.count
        let pg = page(of: p)
        let used = pg.pointee.used
        let q = hak_realloc(p, 20000)!
        #expect(q != p)
        #expect(bin.pointee.count == binned)
        #expect(pg.pointee.used == used - 1)
        #expect(Block.isTaggedFree(p))
        hak_free(q)
        #expect(Invariants.check(heap: heap) == nil)
    }

    @Test func theBudgetKeepsAMegabyteOfOneMidClassAndChargesL25BlocksFourfold() {
        onNewThread {
            let heap = Heaps.currentOrCreate()!
            let mid = SizeClass.of(32 * 1024)
            let midBlocks = (0..<32).map { _ in hak_malloc(32 * 1024)! }
            for p in midBlocks { hak_free(p) }
            // random_mixed ws=400 16..32768 needs this much of a class at hand.
            #expect(Int(Bins.bin(heap, mid).pointee.count) * 32 * 1024 >= 1 << 20)
            #expect(heap.pointee.binnedCharge == Int(Bins.bin(heap, mid).pointee.count) * 32 * 1024)
            let before = heap.pointee.binnedCharge
            let l25 = SizeClass.of(64 * 1024)
            let big = (0..<2).map { _ in hak_malloc(64 * 1024)! }
            for p in big { hak_free(p) }
            #expect(Bins.bin(heap, l25).pointee.count == 2)
            #expect(heap.pointee.binnedCharge == before + 2 * 4 * 64 * 1024)
            // Many big blocks of many classes: the charge stays within the budget.
            var blocks: [UnsafeMutableRawPointer] = []
            for size in stride(from: 40 * 1024, through: 1 << 20, by: 24 * 1024) {
                for _ in 0..<3 { blocks.append(hak_malloc(UInt(size))!) }
            }
            for p in blocks { hak_free(p) }
            #expect(heap.pointee.binnedCharge <= Options.threadCacheBytes)
            #expect(Invariants.check(heap: heap) == nil)
        }
    }

    @Test func largeBlocksUseTheirOwnMappingAndTheSegmentMap() {
        let size = 5 << 20
        let p = hak_malloc(UInt(size))!
        let header = Segments.header(containing: UInt(bitPattern: p))!
        #expect(header.pointee.kind == SegmentKind.large)
        #expect(UInt(bitPattern: header) % UInt(Geometry.segmentSize) == 0)
        #expect(hak_malloc_usable_size(p) >= UInt(size))
        // every byte of the block maps back to the same header
        for offset in stride(from: 0, to: size, by: 1 << 20) {
            #expect(Segments.header(containing: UInt(bitPattern: p) + UInt(offset)) == header)
        }
        // ...but not the rest of the mapping's last 4 MiB chunk, which the kernel may give
        // to anyone (checked mode's zero-size region once landed there: a stats crash)
        let end = UInt(bitPattern: header) + UInt(header.pointee.mappingSize)
        #expect(end % UInt(Geometry.segmentSize) != 0)
        #expect(Segments.header(containing: end) == nil)
        #expect(Segments.header(containing: end + 4096) == nil)
        memset(p, 0x5a, size)
        let q = hak_realloc(p, UInt(size * 4))!
        #expect(q.load(fromByteOffset: size - 1, as: UInt8.self) == 0x5a)
        #expect(hak_malloc_usable_size(q) >= UInt(size * 4))
        hak_free(q)
        // the freed mapping is cached: a same-size request reuses it
        let r = hak_malloc(UInt(size * 4))!
        #expect(Segments.header(containing: UInt(bitPattern: r)) == Segments.header(containing: UInt(bitPattern: q)))
        hak_free(r)
    }

    @Test func aFreedLargeBlockIsGuardedWithinTheRateLimit() {
        let size = 3 << 20
        // Guard allowed: the freed mapping is cached discarded and PROT_NONE behind its
        // header page, and the next guard is pushed into the future.
        Large.nextGuardAt = 0
        let p = hak_malloc(UInt(size))!
        memset(p, 0x77, size)
        let header = Segments.header(containing: UInt(bitPattern: p))!
        hak_free(p)
        #expect(header.pointee.isGuarded)
        #expect(header.pointee.isFreshZero)
        #expect(Large.nextGuardAt > OS.preciseNanoseconds())
        // Reused: unguarded, zero (discarded), writable.
        let q = hak_malloc(UInt(size))!
        #expect(Segments.header(containing: UInt(bitPattern: q)) == header)
        #expect(!header.pointee.isGuarded)
        #expect(q.load(as: UInt8.self) == 0 && q.load(fromByteOffset: size - 1, as: UInt8.self) == 0)
        memset(q, 0x11, size)
        // Guard not allowed yet: cached as it is.
        Large.nextGuardAt = UInt64.max / 2
        hak_free(q)
        #expect(!header.pointee.isGuarded)
        #expect(!header.pointee.isFreshZero)
        let r = hak_malloc(UInt(size))!
        #expect(r.load(fromByteOffset: size - 1, as: UInt8.self) == 0x11)   // pages kept
        hak_free(r)
        Large.nextGuardAt = 0
    }

    @Test func hugeAlignmentsAreServedAndFoundAgain() {
        var alignment = UInt(128 * 1024)
        while alignment <= 64 << 20 {
            for size: UInt in [0, 1000] {   // size 0 once had a mapping ending at the block
                let p = hak_aligned_alloc(alignment, size)!
                #expect(UInt(bitPattern: p) % alignment == 0)
                #expect(hak_malloc_usable_size(p) >= max(size, 1))
                p.storeBytes(of: 0xAB, as: UInt8.self)
                hak_free(p)
            }
            alignment *= 2
        }
    }

    @Test func invalidSizesFailWithENOMEM() {
        for size in [UInt.max, UInt.max - 100, UInt.max / 2, UInt(1) << 47] {
            errno = 0
            #expect(hak_malloc(size) == nil)
            #expect(errno == ENOMEM)
        }
        errno = 0
        #expect(hak_calloc(UInt.max / 2, 3) == nil)
        #expect(errno == ENOMEM)
    }

    /// Checks that every table entry names a pooled segment whose header points back at it.
    func segmentTableIsConsistent() -> Bool {
        (0..<Segments.tableCount).allSatisfy { i in
            let segment = Segments.table![i].segment
            return segment.pointee.tableIndex == i && Segments.header(containing: UInt(bitPattern: segment)) == segment
        }
    }

    @Test func theSegmentTableGrowsPastOnePageAndStaysConsistentAsSegmentsGo() {
        let before = Segments.tableCount
        // 1 MiB blocks: one per 16-slice page, three pages per segment.
        let blocks = (0..<450).map { _ in hak_malloc(1 << 20)! }
        #expect(Segments.tableCount >= before + 140)
        #expect(Segments.tableCapacity > 4096 / MemoryLayout<SegmentEntry>.stride)
        #expect(segmentTableIsConsistent())
        #expect(Set(blocks.map { UInt(bitPattern: $0) >> UInt(Geometry.segmentShift) }).count >= 150)
        // Free every other block first, then the rest: segments empty out (and are
        // unmapped beyond the spares) in an order that moves entries around.
        for i in stride(from: 0, to: blocks.count, by: 2) { hak_free(blocks[i]) }
        #expect(segmentTableIsConsistent())
        for i in stride(from: 1, to: blocks.count, by: 2) { hak_free(blocks[i]) }
        #expect(segmentTableIsConsistent())
        #expect(Segments.tableCount <= before + Segments.spareLimit + 2)
    }

    @Test func alignedMappingsAreAlignedWhetherOrNotTheExactSizeLandsAligned() {
        // Segment-sized requests try the exact size first; the others (and exact ones
        // that land misaligned) over-map and trim.
        for (size, alignment) in [(4 << 20, 4 << 20), (8 << 20, 4 << 20), (4096, 4 << 20), (4 << 20, 16 << 20)] {
            let maps = (0..<6).map { _ in OS.mapAligned(size: size, alignment: alignment)! }
            for m in maps {
                #expect(UInt(bitPattern: m) % UInt(alignment) == 0)
                m.storeBytes(of: 1, toByteOffset: size - 1, as: UInt8.self)
            }
            for m in maps { OS.unmap(m, size: size) }
        }
    }

    @Test func aFreedSliceStaysResidentForOnePurgeTickAndGoesAtTheNext() {
        let saved = Options.purgeDelayNanoseconds
        Options.purgeDelayNanoseconds = 60_000_000   // ticks 30 ms apart
        defer { Options.purgeDelayNanoseconds = saved }
        let page = Segments.allocatePage(slices: 1, sizeClass: 0, heap: 2)!
        let bit = UInt64(1) << UInt64(page.pointee.sliceIndex)
        let header = UnsafeMutablePointer<SegmentHeader>(bitPattern: UInt(bitPattern: page) & ~Geometry.segmentMask)!
        let e = Segments.entry(header)
        // A byte of the slice: still there while the slice is resident, zero once purged.
        let probe = UnsafeMutableRawPointer(header) + Int(page.pointee.sliceIndex) << Geometry.sliceShift
        probe.storeBytes(of: 0x5a, as: UInt8.self)
        let tick = {
            SpinLock.lock(Locks.segments)
            Segments.purgeExpired(now: OS.nowNanoseconds())
            SpinLock.unlock(Locks.segments)
        }
        Segments.releasePage(page)
        #expect(e.pointee.dirtySlices & bit != 0)
        usleep(40_000)
        tick()                                        // first tick: aged, not purged
        #expect(e.pointee.agedSlices & bit != 0 && e.pointee.dirtySlices & bit == 0)
        #expect(probe.load(as: UInt8.self) == 0x5a)
        usleep(40_000)
        tick()                                        // second tick: purged
        #expect((e.pointee.agedSlices | e.pointee.dirtySlices) & bit == 0)
        #expect(probe.load(as: UInt8.self) == 0)
    }

    @Test func aNewPageTakesTheResidentSliceItsClassLastUsed() {
        _ = Segments.purgeAll()   // no resident free slice left over from other tests
        func place(_ x: UnsafeMutablePointer<Page>) -> (Int, Int) {
            let header = UnsafeMutablePointer<SegmentHeader>(bitPattern: UInt(bitPattern: x) & ~Geometry.segmentMask)!
            return (header.pointee.tableIndex, Int(x.pointee.sliceIndex))
        }
        // Two one-slice Tiny pages of different classes (different block layouts).
        let p = Segments.allocatePage(slices: 1, sizeClass: 3, heap: 2)!
        let q = Segments.allocatePage(slices: 1, sizeClass: 30, heap: 2)!
        // Look for the class of the later one in table order: the first resident free
        // slice (what any class got before) is the other one.
        let later = place(p) < place(q) ? q : p
        let (laterPlace, laterClass) = (place(later), Int(later.pointee.sizeClass))
        Segments.releasePage(p)
        Segments.releasePage(q)
        let again = Segments.allocatePage(slices: 1, sizeClass: laterClass, heap: 2)!
        #expect(place(again) == laterPlace)
        // A class with no resident slice of its own takes the first resident one.
        let other = Segments.allocatePage(slices: 1, sizeClass: 7, heap: 2)!
        #expect(place(other) < laterPlace)
        Segments.releasePage(again)
        Segments.releasePage(other)
    }

    @Test func statisticsColumnsStaySeparatedWhenANumberOutgrowsItsColumn() {
        var l = MessageLine()
        l.appendRight(12, width: 4)
        l.appendRight(10_000_007, width: 8)   // as many digits as the column is wide
        l.appendRight(7, width: 3)
        let text = withUnsafeBytes(of: l.bytes) { String(decoding: $0.prefix(l.count), as: UTF8.self) }
        #expect(text.split(separator: " ") == ["12", "10000007", "7"])
    }

    @Test func aBlockAbove64KiBHasAPageOfItsOwnThatGoesBackToTheSegmentWhenFreed() {
        onNewThread {
            let a = hak_malloc(100_000)!, b = hak_malloc(100_000)!
            let pa = page(of: a)
            #expect(pa != page(of: b))
            #expect(pa.pointee.reserved == 1)
            let header = Segments.header(containing: UInt(bitPattern: a))!
            let bit = UInt64(1) << UInt64(pa.pointee.sliceIndex)
            #expect(Segments.entry(header).pointee.usedSlices & bit != 0)
            hak_free(a)
            hak_free(b)
            _ = hak_malloc_trim(0)   // empties this thread's bins
            #expect(Segments.entry(header).pointee.usedSlices & bit == 0)
        }
    }

    @Test func emptyPagesReturnToTheirSegmentAndArePurged() {
        let blocks = (0..<2000).map { _ in hak_malloc(4000)! }
        let purgedBefore = Segments.purgedBytes
        for b in blocks { hak_free(b) }
        #expect(hak_malloc_trim(0) == 1)
        #expect(Segments.purgedBytes > purgedBefore)
    }
}

final class FlagBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: [Bool] = []
    func set(_ v: [Bool]) { lock.lock(); value = v; lock.unlock() }
    func get() -> [Bool] { lock.lock(); defer { lock.unlock() }; return value }
}

final class LockedBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: [SendablePointer] = []
    func set(_ v: [SendablePointer]) { lock.lock(); value = v; lock.unlock() }
    func get() -> [SendablePointer] { lock.lock(); defer { lock.unlock() }; return value }
}
