// Quarantine.swift -- checked mode: freed blocks wait here (FIFO) before they are
// really freed, so a delayed double free or a write after free is still caught.
// Bounded in entries and bytes; guarded by Locks.quarantine.

import CHakmemShim

enum Quarantine {
    static let capacity = 4096
    nonisolated(unsafe) static var ring: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    nonisolated(unsafe) static var head = 0     // oldest entry
    nonisolated(unsafe) static var count = 0
    nonisolated(unsafe) static var bytes = 0

    static func push(_ user: UnsafeMutableRawPointer) {
        var evicted: (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) = (nil, nil)
        SpinLock.lock(Locks.quarantine)
        if ring == nil {
            ring = OS.map(size: capacity * MemoryLayout<UnsafeMutableRawPointer?>.stride)?
                .assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        }
        guard let ring else {
            SpinLock.unlock(Locks.quarantine)
            Checked.release(user)   // no quarantine memory: free at once
            return
        }
        // Make room first: the oldest entry leaves before the new one takes a slot.
        if count == capacity { evicted.0 = pop(ring) }
        ring[(head + count) % capacity] = user
        count += 1
        bytes += size(user)
        // Over the byte budget, one more leaves per push, so it shrinks back under it.
        if bytes > Options.quarantineBytes && count > 1 {
            if evicted.0 == nil { evicted.0 = pop(ring) } else { evicted.1 = pop(ring) }
        }
        SpinLock.unlock(Locks.quarantine)
        if let e = evicted.0 { Checked.release(e) }
        if let e = evicted.1 { Checked.release(e) }
    }

    /// Under the lock: removes the oldest entry.
    static func pop(_ ring: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> UnsafeMutableRawPointer? {
        guard count > 0, let user = ring[head] else { return nil }
        ring[head] = nil
        head = (head + 1) % capacity
        count -= 1
        bytes -= size(user)
        return user
    }

    @inline(__always)
    static func size(_ user: UnsafeMutableRawPointer) -> Int {
        Int(Checked.header(user).load(as: UInt.self) & ((1 << 56) - 1))
    }
}
