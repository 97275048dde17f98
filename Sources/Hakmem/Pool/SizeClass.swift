// SizeClass.swift -- the size classes of the pooled tiers (Tiny, Mid, L2.5).
//
// Classes 0...7 are 16...128 bytes in 16-byte steps; above 128 every power-of-two
// range up to 32 KiB is split into 8 equal steps (144, 160, ... 256; 288, ... 512;
// ...), so a request wastes at most 1/9 (< 12.5%) of its block. Above 32 KiB (L2.5)
// each power of two has 4 steps (40, 48, 56, 64 KiB; ...): at most 1/5 waste, and
// half as many classes, so a thread's big blocks share pages instead of spreading
// over many part-used ones (measured: peak RSS on bench_mid_large_mt).
//
//   Tiny  classes  0...31   16 B ... 1 KiB      1-slice (64 KiB) pages, direct table
//   Mid   classes 32...71   1152 B ... 32 KiB   pages of >= 8 blocks (64...256 KiB)
//   L2.5  classes 72...91   40 KiB ... 1 MiB    pages of 8 blocks up to 64 KiB, then of one
//                                               block in the fewest slices that hold it
//
// Every block size is a multiple of 16, so every block is 16-byte aligned.

enum SizeClass {
    static let count = 92
    static let tinyCount = 32
    /// First L2.5 class (blocks above Size.midMax).
    static let l25First = 72
    /// Blocks bigger than this get a page of their own (see pageSlices).
    static let singleBlockPagesAbove = 64 * 1024

    /// Class of a request of `size` bytes (0 < size <= Size.poolMax; 0 maps to class 0).
    @inline(__always)
    static func of(_ size: Int) -> Int {
        if size <= 128 { return size <= 16 ? 0 : (size &- 1) >> 4 }
        let n = UInt(size &- 1)
        let bit = (UInt.bitWidth &- 1) &- n.leadingZeroBitCount      // floor(log2(size-1)) >= 7
        if size > Size.midMax {                                        // bit >= 15
            let step = n >> UInt(bit &- 2)                             // 4...7
            return l25First &+ (bit &- 15) &* 4 &+ Int(step) &- 4
        }
        let step = n >> UInt(bit &- 3)                                 // 8...15
        return 8 &+ (bit &- 7) &* 8 &+ Int(step) &- 8
    }

    /// Block size of class `c`.
    @inline(__always)
    static func blockSize(_ c: Int) -> Int {
        if c < 8 { return (c &+ 1) &* 16 }
        if c >= l25First {
            let group = (c &- l25First) >> 2   // 0 for 40...64 KiB
            return ((c &- l25First) & 3 &+ 5) << (group &+ 13)
        }
        let group = (c &- 8) >> 3          // 0 for 144...256
        let index = (c &- 8) & 7           // 0...7
        return (index &+ 9) << (group &+ 4)
    }

    /// Slices per page for class `c`: one 64 KiB slice up to 8 KiB blocks, then
    /// enough for 8 blocks; above 64 KiB, enough for one block (<= 1 MiB). A page of
    /// one block is empty as soon as its block leaves the thread cache, so its slices
    /// go back to the segment, where any class can reuse them while they are resident
    /// and the purge returns them otherwise; in pages of several big blocks, a freed
    /// block of a page with live neighbours stayed resident and idle (bench_mid_large_mt
    /// peak RSS 44 -> 38 MB at 1 thread, 144 -> 119 MB at 4; docs/perf-log.md).
    static func pageSlices(_ c: Int) -> Int {
        let size = blockSize(c)
        let bytes = size <= 8 * 1024 ? Geometry.sliceSize : size > singleBlockPagesAbove ? size : size * 8
        let slices = (bytes + Geometry.sliceSize - 1) >> Geometry.sliceShift
        return slices < Geometry.maxPageSlices ? slices : Geometry.maxPageSlices
    }

    /// Direct-table slots served by tiny class `c`: sizes (blockSize(c-1), blockSize(c)].
    static func directSlots(_ c: Int) -> (first: Int, last: Int) {
        let last = blockSize(c) >> 4
        let first = c == 0 ? 0 : (blockSize(c &- 1) >> 4) &+ 1
        return (first, last)
    }

    /// Smallest class whose blocks are >= `size` and a multiple of `alignment`
    /// (a power of two <= Size.poolAlignmentMax), or -1 if none is pooled.
    static func aligned(_ size: Int, alignment: Int) -> Int {
        var c = of(size < alignment ? alignment : size)
        while c < count {
            if blockSize(c) & (alignment &- 1) == 0 { return c }
            c &+= 1
        }
        return -1
    }
}
