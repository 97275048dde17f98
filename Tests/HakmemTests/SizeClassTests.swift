// Unit tests of the size-class tables and the layout constants.
import Testing
@testable import HakmemTestable
import CHakmemShim

@Suite struct SizeClassTests {
    @Test func everySizeGetsABlockThatFitsWithBoundedWaste() {
        var size = 1
        while size <= Size.poolMax {
            let c = SizeClass.of(size)
            let block = SizeClass.blockSize(c)
            #expect(c >= 0 && c < SizeClass.count)
            #expect(block >= size, "size \(size) class \(c) block \(block)")
            #expect(block % 16 == 0)
            if c > 0 {
                #expect(SizeClass.blockSize(c - 1) < size, "size \(size) would fit class \(c - 1)")
            }
            if size > 128 {
                // waste strictly under 12.5% of the block up to 32 KiB, 20% above
                let bound = size <= Size.midMax ? 0.125 : 0.2
                #expect(Double(block - size) / Double(block) < bound, "size \(size) block \(block)")
            }
            size += size < 4096 ? 1 : size / 97
        }
        #expect(SizeClass.of(Size.poolMax) == SizeClass.count - 1)
        #expect(SizeClass.blockSize(SizeClass.count - 1) == Size.poolMax)
        #expect(SizeClass.of(0) == 0)
    }

    @Test func blockSizesAreStrictlyIncreasingAndMapBackToTheirClass() {
        for c in 0..<SizeClass.count {
            #expect(SizeClass.of(SizeClass.blockSize(c)) == c)
            if c > 0 { #expect(SizeClass.blockSize(c) > SizeClass.blockSize(c - 1)) }
        }
        #expect(SizeClass.blockSize(SizeClass.tinyCount - 1) == Size.tinyMax)
        #expect(SizeClass.blockSize(SizeClass.l25First - 1) == Size.midMax)
    }

    @Test func midDirectSlotsPointEveryMidSizeAtTheBinOfItsClass() {
        hak_free(hak_malloc(1))   // the calling thread's heap exists, its direct table is set
        let current = Heaps.current()!
        let direct = hak_tls_direct_slots()
        var seen = Set<Int>()
        for size in (Size.tinyMax + 1)...Size.midMax {
            let i = Bins.midDirectIndex(UInt(size))
            #expect(i >= Int(HAK_DIRECT_TINY_SLOTS) && i < Int(HAK_DIRECT_SLOTS), "size \(size)")
            seen.insert(i)
            let bin = direct[i]!.assumingMemoryBound(to: Bin.self)
            #expect(bin == Bins.bin(current, SizeClass.of(size)), "size \(size)")
            // (A bin the thread has not used yet is all zero: set up on first use.)
            #expect(bin.pointee.blockSize == 0 ? bin.pointee.heap == nil : bin.pointee.heap == current)
        }
        #expect(seen.count == Int(HAK_DIRECT_SLOTS - HAK_DIRECT_TINY_SLOTS))
    }

    @Test func directSlotsCoverEveryTinySizeExactlyOnce() {
        var owner = [Int](repeating: -1, count: 65)
        for c in 0..<SizeClass.tinyCount {
            let r = SizeClass.directSlots(c)
            for i in r.first...r.last {
                #expect(owner[i] == -1, "slot \(i) claimed twice")
                owner[i] = c
            }
        }
        for size in 0...Size.tinyMax {
            #expect(owner[(size + 15) >> 4] == SizeClass.of(size), "size \(size)")
        }
    }

    @Test func pagesHoldEnoughBlocks() {
        for c in 0..<SizeClass.count {
            let slices = SizeClass.pageSlices(c)
            #expect(slices >= 1 && slices <= Geometry.maxPageSlices)
            let blocks = (slices << Geometry.sliceShift) / SizeClass.blockSize(c)
            let size = SizeClass.blockSize(c)
            let minimum = c < SizeClass.tinyCount ? 64 : size <= SizeClass.singleBlockPagesAbove ? 8 : 1
            #expect(blocks >= minimum, "class \(c) has \(blocks) blocks")
            // Above it one block per page, in the fewest slices that hold it.
            if size > SizeClass.singleBlockPagesAbove { #expect(slices == (size + Geometry.sliceSize - 1) >> Geometry.sliceShift) }
        }
    }

    @Test func alignedClassesHaveAlignedBlocks() {
        var alignment = 32
        while alignment <= Size.poolAlignmentMax {
            for size in [0, 1, alignment - 1, alignment, alignment + 1, 3 * alignment, 100_000] {
                let c = SizeClass.aligned(size, alignment: alignment)
                if max(size, alignment) > Size.poolMax { continue }
                #expect(c >= 0)
                #expect(SizeClass.blockSize(c) % alignment == 0)
                #expect(SizeClass.blockSize(c) >= size)
            }
            alignment *= 2
        }
    }

    @Test func layoutConstantsMatchTheCompiler() {
        #expect(MemoryLayout<Page>.offset(of: \Page.binnedLimit) == 0)
        #expect(MemoryLayout<Page>.offset(of: \Page.heap) == Page.heapOffset)
        #expect(MemoryLayout<Page>.offset(of: \Page.carvedLimit) == Page.carvedLimitOffset)
        #expect(MemoryLayout<Page>.offset(of: \Page.divMagic) == Page.divMagicOffset)
        #expect(MemoryLayout<Page>.offset(of: \Page.start) == Page.startOffset)
        #expect(MemoryLayout<SegmentHeader>.offset(of: \SegmentHeader.cookie) == SegmentHeader.cookieOffset)
        #expect(MemoryLayout<SegmentHeader>.offset(of: \SegmentHeader.kind) == SegmentHeader.kindOffset)
        #expect(MemoryLayout<Heap>.offset(of: \Heap.remoteFree) == 0)
        #expect(MemoryLayout<Heap>.offset(of: \Heap.remoteMessages) == Heap.remoteMessagesOffset)
        #expect(MemoryLayout<Heap>.offset(of: \Heap.full) == Heap.fullOffset)
        #expect(Heap.queuesOffset % 64 == 0 && Heap.queuesOffset >= MemoryLayout<Heap>.size)
        #expect(SegmentLayout.metadataEnd <= Geometry.sliceSize)
        #expect(MemoryLayout<Page>.size <= Page.slotBytes)
        #expect(MemoryLayout<Bin>.stride + 8 <= 256)   // the C empty bin is 256 bytes
        #expect(MemoryLayout<Bin>.stride == Bins.slotsOffset)
        #expect(Bins.offset(SizeClass.count - 1) <= Int(UInt16.max))   // Page.binOffset
        #expect(Bins.slotsOffset + Bins.capacity * 8 <= Bins.stride)
        // every field a fast path reads is in the descriptor's first cache line
        for offset in [MemoryLayout<Page>.offset(of: \Page.binnedLimit)!, MemoryLayout<Page>.offset(of: \Page.used)!,
                       MemoryLayout<Page>.offset(of: \Page.binOffset)!, MemoryLayout<Page>.offset(of: \Page.freeLimit)!,
                       MemoryLayout<Page>.offset(of: \Page.flags)!, MemoryLayout<Page>.offset(of: \Page.sizeClass)!,
                       MemoryLayout<Page>.offset(of: \Page.keyBias)!,
                       MemoryLayout<Page>.offset(of: \Page.heap)!, MemoryLayout<Page>.offset(of: \Page.divMagic)!,
                       MemoryLayout<Page>.offset(of: \Page.start)!, MemoryLayout<Page>.offset(of: \Page.carvedLimit)!] {
            #expect(offset < 64)
        }
        #expect(SegmentLayout.pagesOffset % 64 == 0)
    }

    @Test func findFreeRunMatchesBruteForce() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let a: UInt64 = rng.next(), b: UInt64 = rng.next()
            let used = a & b   // ~75% free
            for length in [1, 2, 3, 5, 8, 16, 32] {
                var expected = -1
                outer: for start in 0...(64 - length) {
                    for i in start..<(start + length) where used & (1 << UInt64(i)) != 0 { continue outer }
                    expected = start
                    break
                }
                #expect(Segments.findFreeRun(used, length: length) == expected)
            }
        }
    }
}
