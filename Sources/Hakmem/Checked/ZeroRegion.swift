// ZeroRegion.swift -- checked mode: malloc(0) returns a unique address inside a
// reserved PROT_NONE region, so reading or writing a zero-size block traps. A bitmap
// (ordinary memory) records which addresses are live, to catch double and invalid
// frees. Addresses are never reused; when the region is exhausted, zero-size
// requests fall back to ordinary checked blocks.

import CHakmemShim

enum ZeroRegion {
    static let slots = 1 << 22            // 4 Mi zero-size allocations
    static let slotBytes = 16
    nonisolated(unsafe) static var base: UInt = 0
    nonisolated(unsafe) static var live: UnsafeMutablePointer<UInt64>?
    nonisolated(unsafe) static var next = 0

    static func allocate() -> UnsafeMutableRawPointer? {
        SpinLock.lock(Locks.quarantine)
        defer { SpinLock.unlock(Locks.quarantine) }
        if base == 0 {
            let bytes = slots * slotBytes
            let p = mmap(nil, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
            guard let p, p != UnsafeMutableRawPointer(bitPattern: -1),
                  let bits = OS.map(size: slots / 8) else { return nil }
            base = UInt(bitPattern: p)
            live = bits.assumingMemoryBound(to: UInt64.self)
        }
        guard next < slots, let live else { return nil }
        let i = next
        next += 1
        live[i >> 6] |= 1 << UInt64(i & 63)
        return UnsafeMutableRawPointer(bitPattern: base + UInt(i * slotBytes))
    }

    @inline(__always)
    static func contains(_ p: UnsafeMutableRawPointer) -> Bool {
        base != 0 && UInt(bitPattern: p) &- base < UInt(slots * slotBytes)
    }

    /// Reports unless `p` is a live zero-size block.
    static func checkLive(_ p: UnsafeMutableRawPointer, operation: StaticString) {
        let offset = Int(UInt(bitPattern: p) - base)
        if offset % slotBytes != 0 {
            Report.invalid(operation, "interior pointer of a zero-size block", pointer: p)
        }
        let i = offset / slotBytes
        if live.unsafelyUnwrapped[i >> 6] & (1 << UInt64(i & 63)) == 0 {
            Report.checked("double free", pointer: p, size: 0)
        }
    }

    static func free(_ p: UnsafeMutableRawPointer, operation: StaticString) {
        SpinLock.lock(Locks.quarantine)
        defer { SpinLock.unlock(Locks.quarantine) }
        checkLive(p, operation: operation)
        let i = Int(UInt(bitPattern: p) - base) / slotBytes
        live.unsafelyUnwrapped[i >> 6] &= ~(1 << UInt64(i & 63))
    }
}
