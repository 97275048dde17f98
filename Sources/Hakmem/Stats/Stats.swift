// Stats.swift -- statistics (HAKMEM_STATS=1), printed at exit and by
// hak_stats_print(). With stats on, the direct table stays empty and pages carry
// PageFlags.slowFree, so every malloc and free passes a slow path that counts it;
// with stats off nothing is counted and the fast paths are unchanged.
//
// Counters per size class (index SizeClass.count = the Large tier), updated with
// relaxed atomic adds (any thread may count):
//   allocs, frees, fastHits (malloc served by the page/bin at hand, no refill),
//   remoteFrees (freed by a thread that does not own the block).

import CHakmemShim

enum Stats {
    static let rows = SizeClass.count + 1
    static let fields = 4
    nonisolated(unsafe) static var counters: UnsafeMutableRawPointer?
    /// Threads that got a heap, and threads that exited (relaxed counters).
    nonisolated(unsafe) static var threadWords: UnsafeMutableRawPointer?

    enum Field: Int { case allocs = 0, frees, fastHits, remoteFrees }

    /// Called once at start-up when HAKMEM_STATS is on.
    static func initialize() {
        counters = OS.map(size: rows * fields * 8 + 64)
        threadWords = counters.map { $0 + rows * fields * 8 }
    }

    @inline(__always)
    static func count(_ row: Int, _ field: Field, _ n: UInt = 1) {
        guard let counters else { return }
        AtomicWord.add(counters + (row * fields + field.rawValue) * 8, n)
    }

    static func value(_ row: Int, _ field: Field) -> UInt {
        guard let counters else { return 0 }
        return AtomicWord.loadRelaxed(counters + (row * fields + field.rawValue) * 8)
    }

    static func threadStarted() { if let t = threadWords { AtomicWord.add(t, 1) } }
    static func threadExited() { if let t = threadWords { AtomicWord.add(t + 8, 1) } }

    // MARK: Counting (stats mode only)

    /// Allocates (checked or not) and counts the allocation and its site.
    static func countedAllocation(_ heap: UnsafeMutablePointer<Heap>, size: UInt,
                                  alignment: UInt) -> UnsafeMutableRawPointer? {
        let hit = wouldHit(heap, size: size)
        guard let p = Alloc.allocateUncounted(heap, size, alignment: alignment) else { return nil }
        if let r = row(of: p) {
            count(r, .allocs)
            if hit { count(r, .fastHits) }
        }
        Sites.recordAlloc(currentSite(), bytes: blockBytes(p))
        return p
    }

    /// Counts a free (before it happens; `pointer` may still turn out invalid).
    static func noteFree(_ pointer: UnsafeMutableRawPointer) {
        guard let r = row(of: pointer) else { return }
        count(r, .frees)
        if r < SizeClass.count && Free.pageOf(pointer).pointee.heap != hak_tls_heap_word() {
            count(r, .remoteFrees)
        }
        Sites.recordFree(currentSite(), bytes: blockBytes(pointer))
    }

    /// The stats row of the hakmem block holding `pointer`: its size class, or the
    /// Large row; nil outside hakmem's mappings (checked mode's zero-size blocks). Allocs
    /// and frees both count by the block, so a checked block (header and canary
    /// around the user bytes) is counted in one class either way.
    static func row(of pointer: UnsafeMutableRawPointer) -> Int? {
        guard let header = Segments.header(containing: UInt(bitPattern: pointer)) else { return nil }
        if SegmentHeader.kind(header) == SegmentKind.large { return SizeClass.count }
        return Int(Free.pageOf(pointer).pointee.sizeClass)
    }

    /// Would a malloc of `size` be served from the page or bin at hand (no refill)?
    static func wouldHit(_ heap: UnsafeMutablePointer<Heap>, size: UInt) -> Bool {
        if size > UInt(Size.poolMax) { return false }
        let c = SizeClass.of(Int(size))
        if Bins.bin(heap, c).pointee.count > 0 { return true }
        return Heaps.queue(heap, c).pointee.first?.pointee.free != nil
    }

    /// Bytes of the hakmem block holding `pointer` (what site live bytes count).
    static func blockBytes(_ pointer: UnsafeMutableRawPointer) -> UInt {
        guard let header = Segments.header(containing: UInt(bitPattern: pointer)) else { return 0 }
        if SegmentHeader.kind(header) == SegmentKind.large { return UInt(Large.usableSize(header, pointer)) }
        return UInt(Free.pageOf(pointer).pointee.blockSize)
    }

    /// The site of the hak_*_at call in progress, else the implicit site.
    static func currentSite() -> UInt {
        let s = hak_tls_site_get()
        return s == 0 ? Sites.implicit : s &- 1
    }


    static func tierName(_ row: Int) -> StaticString {
        row >= SizeClass.count ? "Large" : row < SizeClass.tinyCount ? "Tiny"
            : row < SizeClass.l25First ? "Mid" : "L2.5"
    }

    // MARK: Report

    /// Writes the statistics table to stderr.
    static func print() {
        var line = MessageLine()
        line.append("hakmem stats (pid ")
        line.append(decimal: UInt(getpid()))
        line.append(")\n")
        line.write()
        if counters == nil {
            Report.warning("statistics are off (set HAKMEM_STATS=1 or run with hakmem --stats)")
        } else {
            printClasses()
        }
        printTotals()
        Sites.print()
    }

    static func printClasses() {
        var header = MessageLine()
        header.append("tier   class  block-size       allocs        frees  fast-hit%  remote-frees     in-use-bytes\n")
        header.write()
        for row in 0..<rows {
            let allocs = value(row, .allocs)
            if allocs == 0 { continue }
            let frees = value(row, .frees)
            var l = MessageLine()
            l.append(tierName(row))
            l.pad(to: 7)
            if row < SizeClass.count { l.append(decimal: UInt(row)) } else { l.append("-") }
            l.pad(to: 14)
            if row < SizeClass.count { l.appendRight(UInt(SizeClass.blockSize(row)), width: 10) } else { l.append("         -") }
            l.appendRight(allocs, width: 13)
            l.appendRight(frees, width: 13)
            l.appendRight(value(row, .fastHits) * 100 / allocs, width: 11)
            l.appendRight(value(row, .remoteFrees), width: 14)
            let inUse = allocs > frees ? allocs - frees : 0
            l.appendRight(row < SizeClass.count ? inUse * UInt(SizeClass.blockSize(row)) : inUse, width: 17)
            if row >= SizeClass.count { l.append(" blocks") }
            l.append("\n")
            l.write()
        }
    }

    static func printTotals() {
        var allocs: UInt = 0, frees: UInt = 0, inUse: UInt = 0
        for row in 0..<rows {
            let a = value(row, .allocs), f = value(row, .frees)
            allocs &+= a
            frees &+= f
            if row < SizeClass.count && a > f { inUse &+= (a - f) * UInt(SizeClass.blockSize(row)) }
        }
        var l = MessageLine()
        l.append("totals: allocs ")
        l.append(decimal: allocs)
        l.append(", frees ")
        l.append(decimal: frees)
        l.append(", pooled bytes in use ")
        l.append(decimal: inUse)
        l.append(", bytes mapped ")
        l.append(decimal: UInt(Segments.mappedBytes &+ Large.mappedBytes))
        l.append(", bytes returned to OS ")
        l.append(decimal: UInt(Segments.purgedBytes))
        l.append(", peak RSS ")
        l.append(decimal: UInt(hak_os_peak_rss()))
        l.append("\n")
        l.write()
        if let t = threadWords {
            var tl = MessageLine()
            tl.append("threads: ")
            tl.append(decimal: AtomicWord.loadRelaxed(t))
            tl.append(" with a heap, ")
            tl.append(decimal: AtomicWord.loadRelaxed(t + 8))
            tl.append(" exited; ")
            tl.append(decimal: UInt(Abandoned.pageCount))
            tl.append(" abandoned pages\n")
            tl.write()
        }
    }
}

extension MessageLine {
    /// Appends spaces up to column `column`.
    mutating func pad(to column: Int) {
        while count < column { append(byte: 32) }
    }

    /// Appends `value` right-aligned in `width` columns, after at least one space (a
    /// number as wide as its column must not run into the one before).
    mutating func appendRight(_ value: UInt, width: Int) {
        var digits = 1
        var v = value
        while v >= 10 { v /= 10; digits += 1 }
        var spaces = width - digits < 1 ? 1 : width - digits
        while spaces > 0 { append(byte: 32); spaces -= 1 }
        append(decimal: value)
    }
}
