// Init.swift -- process start-up: the secret, the options, the hooks.
//
// hakmem initialises itself on the first allocation that reaches a slow path, which
// may come before any constructor has run (ld.so and libc allocate early). The core
// state needs nothing but the secret and the options; the pthread hooks (thread-exit
// key, fork handlers) are registered right after, once the allocator can already
// serve any malloc those libc calls make.

import CHakmemShim
import Synchronization

/// Random per-process values, set before the first block exists.
enum Secret {
    /// Mixed into segment and large-mapping cookies.
    nonisolated(unsafe) static var cookie: UInt = 0
    /// Mixed into free-list links (Block.setNext).
    nonisolated(unsafe) static var linkKey: UInt = 0
    /// Mixed into the free tag of freed blocks (Block.tagFree).
    nonisolated(unsafe) static var tagKey: UInt = 0
}

enum Startup {
    /// 0: not started, 1: initialising, 2: ready.
    static let state = Atomic<UInt>(0)
    static let hooksState = Atomic<UInt>(0)

    /// Makes sure the process-wide state is ready; cheap once it is.
    @inline(__always)
    static func ensure() {
        if state.load(ordering: .acquiring) == 2 { return }
        initialize()
    }

    @inline(never)
    static func initialize() {
        if state.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged {
            var random: (UInt, UInt, UInt) = (0, 0, 0)
            withUnsafeMutableBytes(of: &random) { hak_os_random($0.baseAddress!, $0.count) }
            Secret.cookie = random.0 | 1
            // A high bit set: a link overwritten with zeroes decodes far outside its page.
            Secret.linkKey = random.1 | (1 << 62)
            Secret.tagKey = random.2 | 1
            Options.load()
            if Options.stats { Stats.initialize() }
            state.store(2, ordering: .releasing)
            if Options.verbose { Options.printBanner() }
        } else {
            while state.load(ordering: .acquiring) != 2 { hak_os_yield() }
        }
    }

    /// Registers the thread-exit key and the fork handlers (once). Called from the
    /// heap slow path after the calling thread has a heap, so recursive mallocs made
    /// by libc here are served normally.
    static func registerHooks() {
        if hooksState.load(ordering: .acquiring) != 0 { return }
        if !hooksState.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged { return }
        ThreadExit.register()
        Fork.register()
        if Options.stats { hak_os_atexit { Stats.print() } }
        hooksState.store(2, ordering: .releasing)
    }
}
