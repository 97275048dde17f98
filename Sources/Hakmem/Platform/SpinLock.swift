// SpinLock.swift -- the locks of hakmem's shared (slow-path) structures.
// Test-and-test-and-set words that yield the CPU while contended. They never
// allocate, and fork holds all of them across the fork (see Fork.swift).
// Lock order (outer first): quarantine, heapPool, abandoned, large, segments.

import CHakmemShim
import Synchronization

enum Locks {
    /// Guards checked mode's quarantine and zero-size region (Checked/).
    static let quarantine = Atomic<UInt>(0)
    /// Guards the heap pool (Heap.swift).
    static let heapPool = Atomic<UInt>(0)
    /// Guards abandoned pages and frees into them (Abandon.swift).
    static let abandoned = Atomic<UInt>(0)
    /// Guards the large-mapping cache (Large.swift).
    static let large = Atomic<UInt>(0)
    /// Guards the segment list and slice bitmaps (Segments.swift).
    static let segments = Atomic<UInt>(0)
    /// Guards the pool of empty remote-free messages (RemoteMessage.swift).
    static let messages = Atomic<UInt>(0)
}

enum SpinLock {
    @inline(__always)
    static func lock(_ word: borrowing Atomic<UInt>) {
        if word.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged { return }
        lockSlow(word)
    }

    @inline(never)
    static func lockSlow(_ word: borrowing Atomic<UInt>) {
        var spins = 0
        while true {
            if word.load(ordering: .relaxed) == 0,
               word.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged { return }
            spins &+= 1
            if spins > 64 { hak_os_yield(); spins = 0 } else { hak_cpu_pause() }
        }
    }

    @inline(__always)
    static func unlock(_ word: borrowing Atomic<UInt>) { word.store(0, ordering: .releasing) }
}
