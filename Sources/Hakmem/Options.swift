// Options.swift -- run-time configuration from HAKMEM_* environment variables,
// read once at start-up without allocating.

import CHakmemShim

enum Options {
    static let version: StaticString = "0.1.0"
    /// HAKMEM_VERBOSE=1: print a banner with the version on start-up.
    nonisolated(unsafe) static var verbose = false
    /// HAKMEM_CHECK=1: checked mode (Checked/Checked.swift).
    nonisolated(unsafe) static var checked = false
    /// HAKMEM_STATS=1: count and print statistics at exit (Stats/Stats.swift).
    nonisolated(unsafe) static var stats = false
    /// checked || stats: every malloc and free takes a slow path.
    nonisolated(unsafe) static var slowPathsOnly = false
    /// HAKMEM_THREAD_CACHE_KB (default 8192): the budget of one thread's Mid/L2.5 bins
    /// (Bins.charge: an L2.5 block counts four times its size); a bin holds at most
    /// 1/8 of it.
    nonisolated(unsafe) static var threadCacheBytes = 8 << 20
    /// HAKMEM_QUARANTINE_MB (default 64): bytes of freed blocks checked mode holds back.
    nonisolated(unsafe) static var quarantineBytes = 64 << 20
    /// HAKMEM_PURGE_DELAY_MS (default 50): how long freed pages stay resident before
    /// their memory is returned to the OS (10 ms cost bench_mid_large_mt a third of its
    /// throughput in purge-then-refault page faults; docs/perf-log.md).
    nonisolated(unsafe) static var purgeDelayNanoseconds: UInt64 = 50_000_000
    /// HAKMEM_LARGE_CACHE_MB (default 64): bytes of freed large mappings kept for reuse.
    nonisolated(unsafe) static var largeCacheBytes = 64 << 20

    /// Every variable hakmem reads (HAKMEM_LIB is the launcher's); anything else named
    /// HAKMEM_* gets a warning.
    static let known: (StaticString, StaticString, StaticString, StaticString, StaticString,
                       StaticString, StaticString, StaticString) =
        ("HAKMEM_VERBOSE", "HAKMEM_CHECK", "HAKMEM_STATS", "HAKMEM_PURGE_DELAY_MS",
         "HAKMEM_LARGE_CACHE_MB", "HAKMEM_THREAD_CACHE_KB", "HAKMEM_QUARANTINE_MB", "HAKMEM_LIB")

    static func load() {
        if let v = number("HAKMEM_VERBOSE") { verbose = v != 0 }
        if let v = number("HAKMEM_CHECK") { checked = v != 0 }
        if let v = number("HAKMEM_STATS") { stats = v != 0 }
        if let v = number("HAKMEM_PURGE_DELAY_MS", max: 3_600_000) { purgeDelayNanoseconds = UInt64(v) &* 1_000_000 }
        if let v = number("HAKMEM_LARGE_CACHE_MB", max: 1 << 20) { largeCacheBytes = Int(v) << 20 }
        if let v = number("HAKMEM_THREAD_CACHE_KB", max: 1 << 20) { threadCacheBytes = Int(v) << 10 }
        if let v = number("HAKMEM_QUARANTINE_MB", max: 1 << 20) { quarantineBytes = Int(v) << 20 }
        slowPathsOnly = checked || stats
        warnUnknown()
    }

    /// Warns about HAKMEM_* variables hakmem does not know (a typo would otherwise be
    /// silently ignored).
    static func warnUnknown() {
        guard let environment = hak_os_environ() else { return }
        var i = 0
        while let entry = environment[i] {
            i += 1
            if !hasPrefix(entry, "HAKMEM_") { continue }
            var isKnown = false
            withUnsafeBytes(of: known) { raw in
                for k in raw.bindMemory(to: StaticString.self) where isName(entry, k) { isKnown = true }
            }
            if !isKnown {
                var line = MessageLine()
                line.append("hakmem: warning: unknown variable ")
                var p = UnsafePointer(entry)
                while p.pointee != 0 && p.pointee != 61 { line.append(byte: UInt8(bitPattern: p.pointee)); p += 1 }
                line.append(" ignored (see docs/configuration.md)\n")
                line.write()
            }
        }
    }

    static func hasPrefix(_ s: UnsafePointer<CChar>, _ prefix: StaticString) -> Bool {
        let p = prefix.utf8Start
        for i in 0..<prefix.utf8CodeUnitCount where UInt8(bitPattern: s[i]) != p[i] { return false }
        return true
    }

    /// True if `entry` is "NAME=..." for exactly `name`.
    static func isName(_ entry: UnsafePointer<CChar>, _ name: StaticString) -> Bool {
        hasPrefix(entry, name) && entry[name.utf8CodeUnitCount] == 61   // '='
    }

    /// Parses a decimal environment variable (at most `max`); nil if unset; warns and
    /// returns nil if malformed or out of range.
    static func number(_ name: StaticString, max: UInt = 1) -> UInt? {
        guard let text = hak_os_getenv(UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self))
        else { return nil }
        var value: UInt = 0
        var p = text
        if p.pointee == 0 { return malformed(name) }
        while p.pointee != 0 {
            let c = UInt8(bitPattern: p.pointee)
            if c < 48 || c > 57 || value > (UInt.max - 9) / 10 { return malformed(name) }
            value = value * 10 + UInt(c - 48)
            p += 1
        }
        return value <= max ? value : malformed(name)
    }

    static func malformed(_ name: StaticString) -> UInt? {
        var line = MessageLine()
        line.append("hakmem: warning: ignoring malformed ")
        line.append(name)
        line.append(" (expected a number in range; using the default)\n")
        line.write()
        return nil
    }

    static func printBanner() {
        var line = MessageLine()
        line.append("hakmem: ")
        line.append(version)
        line.append(checked ? " active, checked mode" : " active")
        line.append(stats ? ", stats on" : "")
        line.append(" (purge delay ")
        line.append(decimal: UInt(purgeDelayNanoseconds / 1_000_000))
        line.append(" ms, large cache ")
        line.append(decimal: UInt(largeCacheBytes >> 20))
        line.append(" MiB, thread cache ")
        line.append(decimal: UInt(threadCacheBytes >> 10))
        line.append(" KiB, quarantine ")
        line.append(decimal: UInt(quarantineBytes >> 20))
        line.append(" MiB)\n")
        line.write()
    }
}
