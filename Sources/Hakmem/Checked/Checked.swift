// Checked.swift -- checked mode (HAKMEM_CHECK=1): every allocation validated,
// at the cost of speed and memory. Selected at run time, yet free for the release
// fast paths: in checked mode the direct table is never filled (every malloc takes
// the slow path, which dispatches here) and every page carries PageFlags.slowFree
// (every free leaves the fast path).
//
// Layout of a checked block (inside an ordinary pooled or Large block):
//
//   block ... | header (16 B) | user bytes (size) | canary (16 B) | slack
//             ^ user - 16     ^ user (aligned)
//
//   header word 0: size | log2(alignment) << 56
//   header word 1: user ^ Secret.checkKey (live), ^ 1 once freed
//   canary: 16 bytes derived from user ^ Secret.checkKey, verified at free/realloc
//
// A freed block is filled with `freeFill` (Large: its inner pages are discarded and
// protected PROT_NONE) and kept in a FIFO quarantine; when it leaves the quarantine
// the fill and canary are verified (write after free) before the block is really
// freed. Zero-size requests get unique addresses in a PROT_NONE region (ZeroRegion),
// so any access traps.

import CHakmemShim

enum Checked {
    static let headerBytes = 16
    static let canaryBytes = 16
    static let freeFill: UInt8 = 0xDF
    /// Blocks at least this big are protected in quarantine instead of filled.
    static let protectThreshold = 64 * 1024

    /// Allocates `size` bytes aligned to `alignment` (a power of two), checked, from the
    /// calling thread's `heap`.
    static func allocate(_ heap: UnsafeMutablePointer<Heap>, _ size: UInt, alignment: UInt) -> UnsafeMutableRawPointer? {
        if size > Size.requestMax { return Alloc.outOfMemory() }
        if size == 0 && alignment <= 16, let p = ZeroRegion.allocate() { return p }
        let a = alignment < 16 ? 16 : alignment
        let lead = Int(a)
        let total = UInt(lead) + size + UInt(canaryBytes)
        let block = a > 16 ? Alloc.alignedCore(heap, total, alignment: a) : Alloc.mallocCore(heap, total)
        guard let block else { return nil }
        let user = block + lead
        header(user).storeBytes(of: size | UInt(a.trailingZeroBitCount) << 56, as: UInt.self)
        header(user).storeBytes(of: liveTag(user), toByteOffset: 8, as: UInt.self)
        writeCanary(user, size: Int(size))
        return user
    }

    /// Frees a checked block: validates, fills, quarantines.
    static func free(_ user: UnsafeMutableRawPointer) {
        if ZeroRegion.contains(user) { ZeroRegion.free(user, operation: "free"); return }
        quarantine(user, size: validate(user, operation: "free"))
    }

    /// Marks a validated block freed, poisons it and quarantines it.
    static func quarantine(_ user: UnsafeMutableRawPointer, size: Int) {
        header(user).storeBytes(of: liveTag(user) ^ 1, toByteOffset: 8, as: UInt.self)
        poison(user, size: size)
        Quarantine.push(user)
    }

    /// free_sized / free_aligned_sized / sized operator delete: the size (and the
    /// alignment, when given) must match the allocation.
    static func freeSized(_ user: UnsafeMutableRawPointer, size: UInt, alignment: UInt) {
        if ZeroRegion.contains(user) {
            if size != 0 { Report.checked("free_sized size mismatch", pointer: user, size: 0, given: size) }
            ZeroRegion.free(user, operation: "free_sized")
            return
        }
        let actual = validate(user, operation: "free_sized")
        if size != UInt(actual) {
            Report.checked("free_sized size mismatch", pointer: user, size: actual, given: size)
        }
        if alignment != 0 && alignment != recordedAlignment(user) {
            Report.checked("free_aligned_sized alignment mismatch", pointer: user, size: actual, given: alignment)
        }
        quarantine(user, size: actual)
    }

    static func reallocate(_ user: UnsafeMutableRawPointer, _ size: UInt) -> UnsafeMutableRawPointer? {
        let old: Int
        if ZeroRegion.contains(user) {
            ZeroRegion.checkLive(user, operation: "realloc")
            old = 0
        } else {
            old = validate(user, operation: "realloc")
        }
        // Through malloc and free, so statistics count both halves.
        guard let fresh = Alloc.malloc(size) else { return nil }
        if old > 0 { fresh.copyMemory(from: user, byteCount: min(old, Int(size))) }
        Free.free(user)
        return fresh
    }

    static func usableSize(_ user: UnsafeMutableRawPointer) -> UInt {
        if ZeroRegion.contains(user) { ZeroRegion.checkLive(user, operation: "malloc_usable_size"); return 0 }
        return UInt(validate(user, operation: "malloc_usable_size"))
    }

    // MARK: Validation

    @inline(__always)
    static func header(_ user: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer { user - headerBytes }

    @inline(__always)
    static func liveTag(_ user: UnsafeMutableRawPointer) -> UInt { UInt(bitPattern: user) ^ Secret.tagKey ^ 0xC4EC }

    static func recordedAlignment(_ user: UnsafeMutableRawPointer) -> UInt {
        UInt(1) << (header(user).load(as: UInt.self) >> 56)
    }

    /// Checks that `user` is a live checked block (else reports and aborts) and
    /// returns its size.
    static func validate(_ user: UnsafeMutableRawPointer, operation: StaticString) -> Int {
        let address = UInt(bitPattern: user)
        // hakmem memory at all? (segment map only: never read unknown memory)
        guard let mapping = Segments.header(containing: address),
              Segments.header(containing: address &- UInt(headerBytes)) != nil else {
            Report.invalid(operation, "pointer not allocated by hakmem", pointer: user)
        }
        if address & 15 != 0 { Report.invalid(operation, "misaligned pointer", pointer: user) }
        // A freed Large mapping waits in the cache with its body protected: its
        // header page says it is free, before the block's own header is read.
        if SegmentHeader.kind(mapping) == SegmentKind.large && mapping.pointee.userBlock == nil {
            Report.checked("double free", pointer: user, size: mapping.pointee.requested)
        }
        let word0 = header(user).load(as: UInt.self)
        let tag = header(user).load(fromByteOffset: 8, as: UInt.self)
        let size = Int(word0 & ((1 << 56) - 1))
        if tag == liveTag(user) ^ 1 { Report.checked("double free", pointer: user, size: size) }
        if tag != liveTag(user) {
            Report.invalid(operation, "not a block hakmem handed out, or its header was overwritten",
                           pointer: user)
        }
        if !canaryIntact(user, size: size) {
            Report.checked("buffer overflow: the canary after the block was overwritten", pointer: user, size: size)
        }
        return size
    }

    // MARK: Canary and poison

    /// Byte `i` of the canary after `user`: secret-derived, and never ASCII (high bit
    /// set), so that an overflow of text or of a NUL terminator always changes it (a
    /// random byte equal to the overflowing one went unnoticed 1 time in 256).
    @inline(__always)
    static func canaryByte(_ user: UnsafeMutableRawPointer, _ i: Int) -> UInt8 {
        (UInt8(truncatingIfNeeded: (UInt(bitPattern: user) ^ Secret.tagKey) >> UInt((i & 7) * 8)) ^ UInt8(i)) | 0x80
    }

    static func writeCanary(_ user: UnsafeMutableRawPointer, size: Int) {
        for i in 0..<canaryBytes { user.storeBytes(of: canaryByte(user, i), toByteOffset: size + i, as: UInt8.self) }
    }

    static func canaryIntact(_ user: UnsafeMutableRawPointer, size: Int) -> Bool {
        for i in 0..<canaryBytes where user.load(fromByteOffset: size + i, as: UInt8.self) != canaryByte(user, i) {
            return false
        }
        return true
    }

    /// Page-aligned inner part of a big block, protected while in quarantine.
    static func innerPages(_ user: UnsafeMutableRawPointer, size: Int) -> (UnsafeMutableRawPointer, Int)? {
        if size < protectThreshold { return nil }
        let page = UInt(Geometry.osPageSize)
        let first = (UInt(bitPattern: user) + page - 1) & ~(page - 1)
        let last = (UInt(bitPattern: user) + UInt(size)) & ~(page - 1)
        if last <= first { return nil }
        return (UnsafeMutableRawPointer(bitPattern: first)!, Int(last - first))
    }

    /// Fills a freed block (small) or discards and protects its inner pages (big).
    static func poison(_ user: UnsafeMutableRawPointer, size: Int) {
        if let (inner, bytes) = innerPages(user, size: size) {
            user.initializeMemory(as: UInt8.self, repeating: freeFill, count: inner - user)
            let tail = user + size - (inner + bytes)
            (inner + bytes).initializeMemory(as: UInt8.self, repeating: freeFill, count: tail)
            OS.purge(inner, size: bytes)
            _ = OS.protect(inner, size: bytes, accessible: false)
        } else {
            user.initializeMemory(as: UInt8.self, repeating: freeFill, count: size)
        }
    }

    /// A block leaving the quarantine: verify the fill and the canary, then free it.
    static func release(_ user: UnsafeMutableRawPointer) {
        let word0 = header(user).load(as: UInt.self)
        let size = Int(word0 & ((1 << 56) - 1))
        if let (inner, bytes) = innerPages(user, size: size) {
            _ = OS.protect(inner, size: bytes, accessible: true)
            verifyFill(user, count: inner - user, block: user, size: size)
            verifyFill(inner + bytes, count: user + size - (inner + bytes), block: user, size: size)
        } else {
            verifyFill(user, count: size, block: user, size: size)
        }
        if !canaryIntact(user, size: size) {
            Report.checked("buffer overflow after free: the canary was overwritten", pointer: user, size: size)
        }
        let lead = Int(UInt(1) << (word0 >> 56))
        Free.freeValidated(user - lead)
    }

    static func verifyFill(_ p: UnsafeMutableRawPointer, count: Int, block: UnsafeMutableRawPointer, size: Int) {
        for i in 0..<count where p.load(fromByteOffset: i, as: UInt8.self) != freeFill {
            Report.checked("write after free: a freed block was modified", pointer: block, size: size)
        }
    }
}
