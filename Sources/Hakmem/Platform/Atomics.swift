// Atomics.swift -- atomic access to plain words that live inside raw-memory
// structures (Page.heap, Heap.remoteFree, lock words). Synchronization's Atomic is
// ~Copyable and cannot be a stored property of our copyable layout structs, so we
// view the word's address as an Atomic<UInt>.

import Synchronization

enum AtomicWord {
    @inline(__always)
    static func at(_ p: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Atomic<UInt>> {
        p.assumingMemoryBound(to: Atomic<UInt>.self)
    }
    @inline(__always)
    static func load(_ p: UnsafeMutableRawPointer) -> UInt {
        at(p).pointee.load(ordering: .acquiring)
    }
    @inline(__always)
    static func loadRelaxed(_ p: UnsafeMutableRawPointer) -> UInt {
        at(p).pointee.load(ordering: .relaxed)
    }
    @inline(__always)
    static func store(_ p: UnsafeMutableRawPointer, _ value: UInt) {
        at(p).pointee.store(value, ordering: .releasing)
    }
    @inline(__always)
    static func exchange(_ p: UnsafeMutableRawPointer, _ value: UInt) -> UInt {
        at(p).pointee.exchange(value, ordering: .acquiringAndReleasing)
    }
    /// Adds `delta` (wrapping) and returns the new value.
    @inline(__always)
    @discardableResult
    static func add(_ p: UnsafeMutableRawPointer, _ delta: UInt) -> UInt {
        at(p).pointee.wrappingAdd(delta, ordering: .relaxed).newValue
    }
    /// Raises the word to at least `value`.
    static func max(_ p: UnsafeMutableRawPointer, _ value: UInt) {
        var seen = loadRelaxed(p)
        while seen < value {
            let now = compareExchange(p, expected: seen, desired: value)
            if now == seen { return }
            seen = now
        }
    }
    /// Compare-and-swap; returns the value seen (== expected on success).
    @inline(__always)
    static func compareExchange(_ p: UnsafeMutableRawPointer, expected: UInt, desired: UInt) -> UInt {
        at(p).pointee.compareExchange(expected: expected, desired: desired,
                                      ordering: .acquiringAndReleasing).original
    }
}
