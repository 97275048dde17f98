// Options.swift -- run-time configuration from HAKMEM_* environment variables,
// read once at start-up without allocating.

import CHakmemShim

enum Options {
    static let version: StaticString = "0.1.0"
    /// HAKMEM_VERBOSE=1: print a banner with the version on start-up.
    nonisolated(unsafe) static var verbose = false
    /// HAKMEM_CHECK=1: checked mode (Checked/Checked.swift).
    nonisolated(unsafe) static var checked = false
    /// HAKMEM_PURGE_DELAY_MS (default 10): how long freed pages stay resident before
    /// their memory is returned to the OS.
    nonisolated(unsafe) static var purgeDelayNanoseconds: UInt64 = 10_000_000
    /// HAKMEM_LARGE_CACHE_MB (default 64): bytes of freed large mappings kept for reuse.
    nonisolated(unsafe) static var largeCacheBytes = 64 << 20

    static func load() {
        if let v = number("HAKMEM_VERBOSE") { verbose = v != 0 }
        if let v = number("HAKMEM_CHECK") { checked = v != 0 }
        if let v = number("HAKMEM_PURGE_DELAY_MS") { purgeDelayNanoseconds = UInt64(v) &* 1_000_000 }
        if let v = number("HAKMEM_LARGE_CACHE_MB") { largeCacheBytes = Int(v) << 20 }
    }

    /// Parses a decimal environment variable; nil if unset; warns and returns nil if
    /// malformed.
    static func number(_ name: StaticString) -> UInt? {
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
        return value
    }

    static func malformed(_ name: StaticString) -> UInt? {
        var line = MessageLine()
        line.append("hakmem: warning: ignoring malformed ")
        line.append(name)
        line.append(" (expected a non-negative integer)\n")
        line.write()
        return nil
    }

    static func printBanner() {
        var line = MessageLine()
        line.append("hakmem: ")
        line.append(version)
        line.append(checked ? " active, checked mode (purge delay " : " active (purge delay ")
        line.append(decimal: UInt(purgeDelayNanoseconds / 1_000_000))
        line.append(" ms, large cache ")
        line.append(decimal: UInt(largeCacheBytes >> 20))
        line.append(" MiB)\n")
        line.write()
    }
}
