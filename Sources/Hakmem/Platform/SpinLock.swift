// SpinLock.swift -- the locks of hakmem's shared (slow-path) structures.
// Test-and-test-and-set words that yield the CPU while contended. They never
// allocate, and fork holds all of them across the fork (Fork, below).
// Lock order (outer first): quarantine, messages, heapPool, abandoned, large,
// segments; Fork.prepare takes them in this order. quarantine and messages are leaves
// (nothing else is locked while either is held); abandoned -> segments nests (an
// abandoned page that empties is released).

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

/// fork(): every lock is taken before the fork and released in both processes, so
/// the child never inherits a lock held by a thread that does not exist there.
enum Fork {
    static func register() {
        _ = pthread_atfork({ Fork.prepare() }, { Fork.release() }, { Fork.release() })
    }

    static func prepare() {
        SpinLock.lock(Locks.quarantine)
        SpinLock.lock(Locks.messages)
        SpinLock.lock(Locks.heapPool)
        SpinLock.lock(Locks.abandoned)
        SpinLock.lock(Locks.large)
        SpinLock.lock(Locks.segments)
    }

    static func release() {
        SpinLock.unlock(Locks.segments)
        SpinLock.unlock(Locks.large)
        SpinLock.unlock(Locks.abandoned)
        SpinLock.unlock(Locks.heapPool)
        SpinLock.unlock(Locks.messages)
        SpinLock.unlock(Locks.quarantine)
    }
}
