// Sites.swift -- per-call-site counters for hak_alloc_at / hak_free_at (and, with
// HAKMEM_STATS=1, plain malloc/free accounted to the implicit site).
//
// A fixed open-addressing table in mapped memory; any thread inserts with a CAS on
// the key word and counts with relaxed atomic adds. Live bytes are usable bytes
// (malloc_usable_size), so an allocation and its free always cancel.
//   entry: key (site id + 1; 0 = empty), allocs, frees, live, peak, tiers[4]

import CHakmemShim

enum Sites {
    static let capacity = 4096
    static let words = 9
    /// The site plain malloc/free are accounted to.
    static let implicit: UInt = .max
    nonisolated(unsafe) static var table: UnsafeMutableRawPointer?
    /// Sites that found the table full.
    nonisolated(unsafe) static var dropped: UInt = 0

    static func entry(_ i: Int) -> UnsafeMutableRawPointer { table.unsafelyUnwrapped + i * words * 8 }

    /// The entry of `site`, inserted if new; nil if the table is full or unavailable.
    static func find(_ site: UInt) -> UnsafeMutableRawPointer? {
        if table == nil {
            SpinLock.lock(Locks.quarantine)
            if table == nil { table = OS.map(size: capacity * words * 8) }
            SpinLock.unlock(Locks.quarantine)
            if table == nil { return nil }
        }
        let key = site &+ 1 == 0 ? site : site &+ 1
        var i = Int(truncatingIfNeeded: (site &* 0x9E37_79B9_7F4A_7C15) >> 52) & (capacity - 1)
        for _ in 0..<capacity {
            let e = entry(i)
            let seen = AtomicWord.loadRelaxed(e)
            if seen == key { return e }
            if seen == 0 {
                let now = AtomicWord.compareExchange(e, expected: 0, desired: key)
                if now == 0 || now == key { return e }
            }
            i = (i + 1) & (capacity - 1)
        }
        AtomicWord.add(&dropped, 1)
        return nil
    }

    static func recordAlloc(_ site: UInt, bytes: UInt) {
        guard let e = find(site) else { return }
        AtomicWord.add(e + 8, 1)
        let live = AtomicWord.add(e + 24, bytes)
        AtomicWord.max(e + 32, live)
        let tier = bytes <= UInt(Size.tinyMax) ? 0 : bytes <= UInt(Size.midMax) ? 1 : bytes <= UInt(Size.poolMax) ? 2 : 3
        AtomicWord.add(e + 40 + tier * 8, 1)
    }

    static func recordFree(_ site: UInt, bytes: UInt) {
        guard let e = find(site) else { return }
        AtomicWord.add(e + 16, 1)
        AtomicWord.add(e + 24, 0 &- bytes)
    }

    // MARK: Report

    /// Prints the top sites by live bytes and by allocation count.
    static func print() {
        guard table != nil else { return }
        printTop(title: "sites by live bytes", field: 3)
        printTop(title: "sites by allocations", field: 1)
        if dropped > 0 {
            var l = MessageLine()
            l.append("sites not recorded (table full): ")
            l.append(decimal: dropped)
            l.append("\n")
            l.write()
        }
    }

    /// Prints up to 10 sites in decreasing order of `field`, without sorting memory.
    static func printTop(title: StaticString, field: Int) {
        var h = MessageLine()
        h.append(title)
        h.append(":\n  site                    allocs        frees   live-bytes   peak-bytes       tiny        mid       l2.5      large\n")
        h.write()
        var bound = UInt.max          // print values < bound (ties: by index order)
        var boundIndex = -1
        for _ in 0..<10 {
            var best = -1
            var bestValue: UInt = 0
            for i in 0..<capacity {
                let e = entry(i)
                if AtomicWord.loadRelaxed(e) == 0 { continue }
                let v = AtomicWord.loadRelaxed(e + field * 8)
                let below = v < bound || (v == bound && i > boundIndex)
                if below && (best < 0 || v > bestValue) { best = i; bestValue = v }
            }
            if best < 0 { break }
            bound = bestValue
            boundIndex = best
            printEntry(entry(best))
        }
    }

    static func printEntry(_ e: UnsafeMutableRawPointer) {
        let key = AtomicWord.loadRelaxed(e)
        var l = MessageLine()
        l.append("  ")
        if key == implicit { l.append("malloc (implicit)") } else { l.append(hex: key &- 1) }
        l.pad(to: 24)
        l.appendRight(AtomicWord.loadRelaxed(e + 8), width: 8)
        l.appendRight(AtomicWord.loadRelaxed(e + 16), width: 13)
        let live = AtomicWord.loadRelaxed(e + 24)
        l.appendRight(live > UInt(Int.max) ? 0 : live, width: 13)
        l.appendRight(AtomicWord.loadRelaxed(e + 32), width: 13)
        for t in 0..<4 { l.appendRight(AtomicWord.loadRelaxed(e + 40 + t * 8), width: 11) }
        l.append("\n")
        l.write()
    }
}
