// Unit tests of the release hardening primitives: exact block-start test, encoded
// links, free tags. (The abort paths are exercised by tests/wrong-use, which runs
// misusing programs in their own processes.)
import Testing
@testable import HakmemTestable

@Suite struct HardeningTests {
    @Test func blockIndexIsExactDivisionForEveryClass() {
        let page = UnsafeMutablePointer<Page>.allocate(capacity: 1)
        defer { page.deallocate() }
        for c in 0..<SizeClass.count {
            let size = SizeClass.blockSize(c)
            let bytes = SizeClass.pageSlices(c) << Geometry.sliceShift
            let capacity = bytes / size
            Pages.setDivision(page, blockSize: size)
            page.pointee.capacity = UInt32(capacity)
            var offset = 0
            var mismatches = 0
            while offset < bytes {
                let index = Pages.blockIndex(page, offset: UInt(offset))
                // a block start: a multiple of the size whose block fits in the page
                let isStart = offset % size == 0 && offset / size < capacity
                if (index < UInt(capacity)) != isStart || (isStart && index != UInt(offset / size)) {
                    mismatches += 1
                }
                offset += offset < 4 * size ? 1 : size / 3 + 1
            }
            #expect(mismatches == 0, "class \(c)")
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
        #expect(Block.linkDelta(slot) == UInt(bitPattern: next) ^ UInt(bitPattern: slot))
        Block.setNext(slot, nil)
        #expect(Block.next(slot) == nil)
        // A link overwritten with zeroes decodes far outside any 64 KiB page.
        slot.storeBytes(of: 0, as: UInt.self)
        #expect(Block.linkDelta(slot) >> UInt(Geometry.sliceShift) != 0)
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

    @Test func mallocClearsTheTagAndFreeSetsIt() {
        let p = hak_malloc(48)!
        #expect(!Block.isTaggedFree(p))
        hak_free(p)
        #expect(Block.isTaggedFree(p))
        // allocate until the block comes back: it must come back untagged
        var taken: [UnsafeMutableRawPointer] = []
        while taken.count < 10_000, taken.last != p { taken.append(hak_malloc(48)!) }
        #expect(taken.last == p)
        #expect(!Block.isTaggedFree(p))
        #expect(p.load(as: UInt.self) == 0)   // the encoded link does not leak
        for q in taken { hak_free(q) }
    }
}
