// Unit tests of the release hardening primitives: exact block-start test, encoded
// links, free tags. (The abort paths are exercised by tests/wrong-use, which runs
// misusing programs in their own processes.)
import Testing
@testable import HakmemTestable

@Suite struct HardeningTests {
    @Test func blockKeyIsAnExactBlockStartTestForEveryClass() {
        let page = UnsafeMutablePointer<Page>.allocate(capacity: 1)
        defer { page.deallocate() }
        for c in 0..<SizeClass.count {
            let size = SizeClass.blockSize(c)
            let bytes = SizeClass.pageSlices(c) << Geometry.sliceShift
            page.pointee.blockSize = size
            Pages.setDivision(page, blockSize: size)
            let step = Pages.divStep(page)
            #expect(step >= UInt(size) && step < 2 * UInt(size), "class \(c)")
            // every carving stage: nothing carved, part of the page, all of it
            for capacity in [0, 1, (bytes / size) / 2, bytes / size] {
                page.pointee.carvedLimit = UInt(capacity) &* step
                var offset = 0
                var mismatches = 0
                while offset < bytes + 2 * size {
                    let key = Pages.blockKey(page, offset: UInt(offset))
                    // a block start: a multiple of the size among the carved blocks
                    let isStart = offset % size == 0 && offset / size < capacity
                    if (key < page.pointee.carvedLimit) != isStart
                        || (offset % size == 0 && key != UInt(offset / size) &* step) {
                        mismatches += 1
                    }
                    offset += offset < 4 * size ? 1 : size / 3 + 1
                }
                #expect(mismatches == 0, "class \(c) capacity \(capacity)")
            }
        }
    }

    @Test func blockKeyRejectsEveryOffsetInAPageThatIsNotABlockStart() {
        // Exhaustive over a whole 64 KiB Tiny slice for every Tiny class, for a page that
        // starts at the slice start and for one at the class's largest colour, with the
        // free fast path's key (Pages.tinyKey).
        let page = UnsafeMutablePointer<Page>.allocate(capacity: 1)
        defer { page.deallocate() }
        for c in 0..<SizeClass.tinyCount {
            let size = SizeClass.blockSize(c)
            page.pointee.blockSize = size
            Pages.setDivision(page, blockSize: size)
            let largest = (1..<Geometry.slicesPerSegment).map {
                Pages.colourOffset(segment: 0, slice: $0, bytes: Geometry.sliceSize, sizeClass: c)
            }.max()!
            for colour in [0, largest] {
                // (never dereferenced: a slice-aligned address in the user range)
                let slice = UInt(0x7f00_0001_0000)
                page.pointee.start = UnsafeMutableRawPointer(bitPattern: slice + UInt(colour))
                Pages.setDivision(page, blockSize: size)
                let capacity = (Geometry.sliceSize - colour) / size
                page.pointee.carvedLimit = UInt(capacity) &* Pages.divStep(page)
                var accepted = 0
                for address in 0..<Geometry.sliceSize {
                    guard Pages.tinyKey(page, slice + UInt(address)) < page.pointee.carvedLimit else { continue }
                    #expect(address >= colour && (address - colour) % size == 0,
                            "class \(c) colour \(colour) address \(address)")
                    accepted += 1
                }
                #expect(accepted == capacity, "class \(c) colour \(colour)")
            }
        }
    }

    @Test func pageColoursSpreadTinyPagesAndCostMidPagesNoBlock() {
        for c in 0..<SizeClass.count {
            let size = SizeClass.blockSize(c)
            let unit = size & -size
            let bytes = SizeClass.pageSlices(c) << Geometry.sliceShift
            for segment in [UInt(0), UInt(0x7f12_3440_0000)] {
                var colours = Set<Int>()
                for slice in 1..<Geometry.slicesPerSegment {
                    let colour = Pages.colourOffset(segment: segment, slice: slice, bytes: bytes, sizeClass: c)
                    colours.insert(colour)
                    // aligned classes stay aligned; the blocks fit
                    #expect(colour % unit == 0, "class \(c)")
                    if c < SizeClass.tinyCount {
                        #expect(colour < Pages.tinyColourSpan, "class \(c)")
                    } else {
                        #expect((bytes - colour) / size == bytes / size, "class \(c)")
                    }
                }
                // The 63 Tiny pages of a segment start on 63 different cache lines when
                // the blocks allow it (unit <= 64); coarser units merge neighbours.
                if c < SizeClass.tinyCount {
                    let expected = unit <= 64 ? 63 : min(63, Pages.tinyColourSpan / unit) / 2
                    #expect(colours.count >= expected, "class \(c)")
                }
            }
        }
    }

    @Test func linksRoundTripAndAreNotStoredInTheClear() {
        Startup.ensure()
        let slot = UnsafeMutableRawPointer.allocate(byteCount: 32, alignment: 16)
        defer { slot.deallocate() }
        let next = slot + 16
        Block.setNext(slot, next)
        #expect(Block.next(slot) == next)
        #expect(slot.load(as: UInt.self) != UInt(bitPattern: next))
        #expect(slot.load(as: UInt.self) ^ Secret.linkKey == UInt(bitPattern: next) ^ UInt(bitPattern: slot))
        Block.setNext(slot, nil)
        #expect(Block.next(slot) == nil)
        // A link overwritten with zeroes decodes far outside any 64 KiB page.
        slot.storeBytes(of: 0, as: UInt.self)
        #expect((UInt(bitPattern: Block.next(slot)) ^ UInt(bitPattern: slot)) >> UInt(Geometry.sliceShift) != 0)
    }

    @Test func freeTagsMarkOnlyTheirOwnBlock() {
        Startup.ensure()
        let a = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 16)
        defer { a.deallocate() }
        let b = a + 32
        a.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
        #expect(!Block.isTaggedFree(a))
        Block.tagFree(a)
        #expect(Block.isTaggedFree(a))
        // the same tag copied to another block does not mark it
        b.storeBytes(of: a.load(fromByteOffset: 8, as: UInt.self), toByteOffset: 8, as: UInt.self)
        #expect(!Block.isTaggedFree(b))
        Block.clearFreeWords(a)
        #expect(!Block.isTaggedFree(a))
    }

    @Test func theFreeSliceSentinelFailsEveryBlockStartTest() {
        let p = hak_malloc(48)!
        defer { hak_free(p) }
        let header = UnsafeMutablePointer<SegmentHeader>(
            bitPattern: UInt(bitPattern: p) & ~Geometry.segmentMask)!
        let sentinel = Segments.page(header, 0)
        // Pages.isBlockStart has no nil test for `start`: the sentinel must fail anyway.
        #expect(sentinel.pointee.start == nil)
        for offset in stride(from: 0, to: Geometry.segmentSize, by: 16 * 1021) {
            #expect(!Pages.isBlockStart(sentinel, UInt(bitPattern: header) &+ UInt(offset)))
        }
    }

    @Test func canaryBytesAreNeverASCIISoTextAndNULOverflowsAlwaysShow() {
        Startup.ensure()
        var seen = Set<UInt8>()
        for slot in stride(from: 0x7f00_0000_0000 as UInt, to: 0x7f00_0001_0000, by: 16) {
            let user = UnsafeMutableRawPointer(bitPattern: slot)!
            for i in 0..<Checked.canaryBytes {
                let byte = Checked.canaryByte(user, i)
                #expect(byte >= 0x80, "canary byte \(i) of \(slot): \(byte)")
                seen.insert(byte)
            }
        }
        #expect(seen.count == 128)   // still every non-ASCII value: secret-derived, not fixed
    }

    @Test func mallocClearsTheTagAndFreeSetsIt() {
        // Test threads are reused, so the bin may hold blocks another test wrote: empty
        // it, so the next blocks come from a page (through Bins.fill).
        Bins.flushAll(Heaps.currentOrCreate()!)
        let p = hak_malloc(48)!, q = hak_malloc(48)!
        // Neither leaks its page free-list link (`next ^ slot ^ linkKey`).
        #expect(p.load(as: UInt.self) == 0)
        #expect(q.load(as: UInt.self) == 0)
        #expect(!Block.isTaggedFree(p))
        hak_free(p)
        #expect(Block.isTaggedFree(p))
        // The bin hands the block back first, untagged.
        let again = hak_malloc(48)!
        #expect(again == p)
        #expect(!Block.isTaggedFree(p))
        hak_free(again)
        hak_free(q)
    }

    @Test func blocksCarvedStraightIntoABinAreTaggedWithWordZeroCleared() {
        let heap = Heaps.currentOrCreate()!
        Bins.flushAll(heap)
        let size: UInt = 656   // a class no other test uses, so its page still has never-used blocks
        let c = SizeClass.of(Int(size))
        var taken = [hak_malloc(size)!]
        let page = Free.pageOf(taken[0])
        let capacity = Int(page.pointee.capacity)
        let reserved = Int(page.pointee.reserved)
        #expect(capacity < reserved)
        // Dirty the never-used blocks as a previous page of the slice could have left
        // them (a stale encoded link in word 0, a stale tag in word 1).
        let start = page.pointee.start!
        for i in capacity..<reserved {
            let block = start + i * page.pointee.blockSize
            block.storeBytes(of: (UInt(0x4141_4141_4141_4140), UInt(0x4242_4242_4242_4242)), as: (UInt, UInt).self)
        }
        while Int(page.pointee.capacity) == capacity && taken.count < 4096 { taken.append(hak_malloc(size)!) }
        #expect(Int(page.pointee.capacity) > capacity)
        let bin = Bins.bin(heap, c)
        #expect(bin.pointee.count > 0)
        for i in 0..<Int(bin.pointee.count) {
            let block = Bins.slots(bin)[i]
            #expect(Block.isTaggedFree(block))
            #expect(block.load(as: UInt.self) == 0)
        }
        for p in taken {
            #expect(p.load(as: UInt.self) == 0)
            #expect(!Block.isTaggedFree(p))
        }
        #expect(Invariants.check(heap: heap) == nil)
        for p in taken { hak_free(p) }
        #expect(Invariants.check(heap: heap) == nil)
    }
}
