// Layout.swift -- every core data structure of hakmem and its invariants.
//
// Map of the heap
// ===============
//
//   address space
//   └─ Segment (4 MiB, 4 MiB-aligned mmap)          SegmentHeader at its base
//      ├─ slice 0        : SegmentHeader + pageOf[8 colours][64] + pages[64] (metadata only)
//      └─ slices 1...63  : 64 KiB each; a Page spans 1...32 contiguous slices
//         └─ Page         : blocks of one size class, carved lazily from `start` (the
//                           first slice's start plus the page's cache colour, Pages.colourOffset)
//
//   Large blocks (> Size.poolMax, or alignment > Size.poolAlignmentMax) get their own
//   4 MiB-aligned mapping: SegmentHeader at the base (kind = large), the user block at
//   base + max(4 KiB, alignment).
//
//   Thread ── TLS hak_tls_direct[65] ──> Bin (one per 16-byte size step <= 1 KiB)
//          └─ TLS hak_tls_heap ────────> Heap: bins[class] (LIFO caches of free blocks),
//                                        queues[class] of owned pages, full list,
//                                        remoteFree / remoteMessages (blocks freed
//                                        by other threads: single / in messages)
//
// Segment map
// ===========
// `hak_segmap` (C shim, .bss) has one byte per 4 MiB chunk of the 47-bit address
// space. It answers "is this pointer hakmem's, and where is its header?" in O(1)
// without reading memory that may be unmapped:
//   0          not hakmem memory (foreign pointer)
//   1          a pooled segment; its header is at the chunk base
//   2 + j      chunk j (0...252) of a large mapping; the header is j chunks below
//   255        deeper inside a large mapping (never the start of a user block)
//
// Ownership and invariants
// ========================
// Page (owned by exactly one Heap, or abandoned: heap == nil, or free: in no heap):
//   used == capacity - |free| - |localFree|            (blocks handed out, including
//                                                       blocks in the owner's bin and
//                                                       in some heap's remote lists,
//                                                       messages or batch)
//   capacity <= reserved;  (start - first slice's start) + reserved * blockSize
//                          <= sliceCount * sliceSize
//   every block in free/localFree lies in [start, start + capacity * blockSize)
//   `free` and `localFree` are touched only by the owner thread (or, for an abandoned
//   page, under `abandonedLock`).
//   flags & inFull  <=>  the page is on its heap's full list, not in queues[class].
//   freeLimit == (flags & (binned | slowFree) == 0 ? carvedLimit : 0);
//   binnedLimit == (flags & (binned | slowFree) == binned ? carvedLimit : 0);
//   carvedLimit == capacity * divStep;  binOffset == Bins.offset(sizeClass).
// Heap:
//   queues[c] holds pages of class c with (probably) free blocks; allocation takes
//   blocks from the first one.
//   bins[c] holds free (tagged) blocks of class c: of pages the heap owns, and for a
//   Tiny class also of pages other heaps own (freed by this thread; such a block goes
//   back to its owner when the bin flushes, see Bins.flush); for a Tiny class c,
//   hak_tls_direct[] points at bins[c] for the sizes of c (at the empty bin before the
//   thread has a heap, and always in checked and stats modes).
//   remoteFree (single blocks, linked through them) and remoteMessages (batches of
//   blocks, RemoteMessage) are lock-free stacks (push: CAS by any thread; pop-all:
//   exchange by the owner). The value `Heap.abandonedMarker` in either means the
//   owner has exited.
// Segment (pooled):
//   Segments.table[header.tableIndex].segment == header, for every pooled segment
//   mapped (and only those): the slice masks live in that dense table, not in the
//   header, so a page allocation scans contiguous entries instead of chasing a list
//   through the headers of 4 MiB-apart segments (a cache and a TLB miss each).
//   bit i of usedSlices  <=>  slice i belongs to a live page (bit 0: the header).
//   pageOf[colour][i] == &pages[first slice of the page covering i], or &pages[0] (the
//   sentinel: heap == nil, start == nil, carvedLimit == 0, so it fails every block-start
//   test; never handed out) for a free slice; colour = bits 22...24 of
//   the segment's address (SegmentLayout); the other rows are unused.
//   bit i of dirtySlices or agedSlices => slice i is free and may still be resident;
//   dirtySlices & agedSlices == 0; the purge tick at `purgeAt` madvise(DONTNEED)s the
//   aged slices and ages the dirty ones (purgeAt != 0 whenever a mask is non-zero).

import CHakmemShim

/// Geometry of segments and slices.
enum Geometry {
    static let segmentShift = 22
    static let segmentSize = 1 << segmentShift              // 4 MiB
    static let segmentMask = UInt(segmentSize - 1)
    static let sliceShift = 16
    static let sliceSize = 1 << sliceShift                  // 64 KiB
    static let slicesPerSegment = segmentSize / sliceSize   // 64
    static let osPageSize = 4096
    /// The largest page a pooled size class uses, in slices (1 MiB): three fit in a
    /// segment next to smaller pages (a 2 MiB page took a segment to itself, and its
    /// release unmapped the segment: measured 3x the page faults of mimalloc on
    /// bench_mid_large_mt).
    static let maxPageSlices = 16
}

/// Size limits of the tiers.
enum Size {
    /// Requests up to this size use the per-thread direct table and bins (Tiny tier).
    static let tinyMax = 1024
    /// Up to this size: Mid tier (pooled, 64 KiB...512 KiB pages).
    static let midMax = 32 * 1024
    /// Up to this size: L2.5 tier (pooled, pages up to 1 MiB). Larger: Large tier.
    static let poolMax = 1 << 20
    /// Alignments up to this are served from pooled pages (blocks of a power-of-two
    /// multiple of the alignment inside slice-aligned pages); larger ones go Large.
    static let poolAlignmentMax = Geometry.sliceSize
    /// Requests above this fail with ENOMEM without asking the OS (2^46 = 64 TiB).
    static let requestMax: UInt = 1 << 46
    /// The largest alignment hakmem serves (the segment map reaches 252 chunks back).
    static let alignmentMax: UInt = 1 << 29
}

/// A free block's first two words (every block has at least 16 bytes):
///   word 0: the link to the next free block, stored as `next ^ slot ^ Secret.linkKey`
///           (safe-linking: a use-after-free write cannot steer malloc to an address
///           of the attacker's choosing; a bad link decodes outside its page and is
///           reported);
///   word 1: the free tag `slot ^ Secret.tagKey` while the block is free, so a second
///           free of it is detected in O(1). Every block of a page's lists (free,
///           localFree; carved blocks are tagged as they are linked), of a remote list
///           and of a bin carries it.
/// A block moved from a page's list into a bin has its link zeroed and keeps its tag
/// (Bins.fill); one handed out from a page's list has both words zeroed (Alloc.pop);
/// one leaving a bin has its tag cleared (no link lives in a binned block).
/// Every read and write of these words goes through this type. Building with
/// -DHAKMEM_UNHARDENED stores plain links and no tags (to measure what the checks
/// cost; see docs/hardening.md).
enum Block {
    /// The decoded link, unchecked (Pages.checkedNext and Free.checkedRemoteNext check
    /// it before it is followed).
    @inline(__always)
    static func next(_ slot: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
        #if HAKMEM_UNHARDENED
        return slot.load(as: UnsafeMutableRawPointer?.self)
        #else
        return UnsafeMutableRawPointer(bitPattern: slot.load(as: UInt.self) ^ Secret.linkKey ^ UInt(bitPattern: slot))
        #endif
    }
    @inline(__always)
    static func setNext(_ slot: UnsafeMutableRawPointer, _ next: UnsafeMutableRawPointer?) {
        #if HAKMEM_UNHARDENED
        slot.storeBytes(of: UInt(bitPattern: next), as: UInt.self)
        #else
        slot.storeBytes(of: UInt(bitPattern: next) ^ UInt(bitPattern: slot) ^ Secret.linkKey, as: UInt.self)
        #endif
    }
    /// True if the block carries the free tag (it is free: a free of it is a double free).
    @inline(__always)
    static func isTaggedFree(_ slot: UnsafeMutableRawPointer) -> Bool {
        #if HAKMEM_UNHARDENED
        return false
        #else
        return slot.load(fromByteOffset: 8, as: UInt.self) == UInt(bitPattern: slot) ^ Secret.tagKey
        #endif
    }
    @inline(__always)
    static func tagFree(_ slot: UnsafeMutableRawPointer) {
        #if !HAKMEM_UNHARDENED
        slot.storeBytes(of: UInt(bitPattern: slot) ^ Secret.tagKey, toByteOffset: 8, as: UInt.self)
        #endif
    }
    /// Zeroes word 0 of a free block that enters a bin with a link in it (the fast pop
    /// clears only the tag: the link, `next ^ slot ^ linkKey`, must not reach the user).
    @inline(__always)
    static func clearLink(_ slot: UnsafeMutableRawPointer) {
        #if !HAKMEM_UNHARDENED
        slot.storeBytes(of: UInt(0), as: UInt.self)
        #endif
    }
    /// Clears the free tag as a block leaves a bin on the malloc fast path (word 0 of a
    /// binned block holds no link: zeroed by Bins.fill, or the user's own data).
    @inline(__always)
    static func clearTag(_ slot: UnsafeMutableRawPointer) {
        #if !HAKMEM_UNHARDENED
        slot.storeBytes(of: UInt(0), toByteOffset: 8, as: UInt.self)
        #endif
    }
    /// Zeroes word 0 and tags the block free: a never-used block carved straight into a
    /// bin (word 0 may hold a link from the slice's previous page, which must not
    /// reach the user).
    @inline(__always)
    static func tagFresh(_ slot: UnsafeMutableRawPointer) {
        #if !HAKMEM_UNHARDENED
        slot.storeBytes(of: (UInt(0), UInt(bitPattern: slot) ^ Secret.tagKey), as: (UInt, UInt).self)
        #endif
    }
    /// Zeroes both words as the block is handed out: clears the tag, and does not
    /// leak the encoded link (which would reveal `slot ^ linkKey`).
    @inline(__always)
    static func clearFreeWords(_ slot: UnsafeMutableRawPointer) {
        #if !HAKMEM_UNHARDENED
        slot.storeBytes(of: (UInt(0), UInt(0)), as: (UInt, UInt).self)
        #endif
    }
}

/// Descriptor of one page: a run of slices holding blocks of one size class.
/// Lives in its segment's header (out of band: a block overflow cannot reach it).
/// Descriptors are Page.slotBytes apart and cache-line aligned; every field the free
/// paths of an owner touch (fast path, and freeOwned for Mid/L2.5 blocks) lies in the
/// first 64 bytes (the malloc fast paths read no page; allocation from the page uses
/// both lines).
struct Page {
    /// The owner's Mid/L2.5 free test (Free.freeOwned), as freeLimit is the Tiny one:
    /// `carvedLimit` for a Mid/L2.5 page in the release modes, else 0. So one
    /// comparison, `blockKey(address - start) < binnedLimit`, says both "a carved block
    /// start" and "a page whose owner's frees take the bin path". Written only through
    /// Pages.setFlags and Pages.carve.
    var binnedLimit: UInt
    /// Blocks handed out and not yet freed back to this page (see invariant).
    var used: UInt32
    /// Offset of the owner heap's bin of this class from the heap (Bins.offset): the
    /// owner's fast free pushes on heap + binOffset.
    var binOffset: UInt16
    /// `PageFlags` bits. Written only through Pages.setFlags (which keeps freeLimit).
    var flags: UInt8
    /// Size class of the blocks.
    var sizeClass: UInt8
    /// `(start mod sliceSize) &* divMagic`: what Pages.tinyKey takes off the key of an
    /// address's low 16 bits, so that the key counts from the page's coloured start
    /// (meaningful for one-slice pages; set with divMagic, Pages.setDivision).
    var keyBias: UInt
    /// The owner's fast free test (Free.free): `carvedLimit` for a Tiny page in the
    /// release modes, else 0. So one comparison, `tinyKey(address) < freeLimit`,
    /// says both "a carved block start" and "a page whose owner frees may take the
    /// fast path" (the unhardened build tests `!= 0`). Written only through
    /// Pages.setFlags and Pages.carve.
    var freeLimit: UInt
    /// Owner heap (Heap*), Page.noOwner when abandoned or free. Read by other threads
    /// with atomic loads (`Free.ownerWord`); written only by the owner or under a lock.
    var heap: UInt
    /// Block-start test without division: `divMagic = floor((2^64 - 1) / blockSize) + 2`.
    /// For an offset x < 2^32 into the page, `x &* divMagic` is `(x / blockSize) * divStep`
    /// when x is a multiple of blockSize (divStep = `divMagic &* blockSize`, in
    /// [blockSize, 2 * blockSize)) and at least 2^64 / blockSize otherwise, so
    /// `x &* divMagic < carvedLimit` <=> "x is the start of a block that was handed out
    /// at some point" (Pages.blockKey; the divisibility test of Lemire, Kaser and Kurz,
    /// with the bound folded into the same comparison).
    var divMagic: UInt
    /// Address of the first block: the first slice's start plus the page's colour
    /// (Pages.colourOffset; < 16 KiB for a Tiny page, at most the page's unused tail
    /// otherwise), a multiple of the block size's largest power-of-two factor.
    var start: UnsafeMutableRawPointer?
    /// `capacity * divStep` (see divMagic); updated whenever capacity grows. Only the
    /// owner writes it; other threads read it with relaxed atomic loads: a block that
    /// reaches them was carved (and carvedLimit raised) before it was handed out.
    var carvedLimit: UInt
    // ---- second cache line: slow paths only
    /// Free blocks to allocate from.
    var free: UnsafeMutableRawPointer?
    /// Blocks carved so far from the page area.
    var capacity: UInt32
    /// Blocks that fit in the page.
    var reserved: UInt32
    /// First slice index of the page in its segment.
    var sliceIndex: UInt8
    /// Size of each block in bytes (a multiple of 16).
    var blockSize: Int
    /// Number of slices of the page.
    var sliceCount: UInt8
    /// Blocks freed by the owner thread; moved to `free` when `free` runs dry.
    var localFree: UnsafeMutableRawPointer?
    /// Links of the heap queue / full list / abandoned list this page is on.
    var next: UnsafeMutablePointer<Page>?
    var prev: UnsafeMutablePointer<Page>?

    /// Distance between descriptors in the segment header (two cache lines).
    static let slotBytes = 128
}

extension Page {
    /// Byte offset of `heap` (embedded Swift has no key paths; a unit test checks it
    /// against MemoryLayout.offset(of:)).
    static let heapOffset = 32
    /// Byte offset of `carvedLimit` (read by other threads: Free.freeOthers).
    static let carvedLimitOffset = 56
    /// Byte offsets of the fields fixed for a page's life that other threads read.
    static let divMagicOffset = 40
    static let startOffset = 48

    /// `start` and `divMagic` of a page another thread may own, read with
    /// raw loads: its owner updates other fields meanwhile, and a Swift access to
    /// `pointee` covers the whole descriptor. They do not change while the page lives.
    @inline(__always)
    static func sharedStart(_ page: UnsafeMutablePointer<Page>) -> UInt {
        UnsafeRawPointer(page).load(fromByteOffset: startOffset, as: UInt.self)
    }
    @inline(__always)
    static func sharedDivMagic(_ page: UnsafeMutablePointer<Page>) -> UInt {
        UnsafeRawPointer(page).load(fromByteOffset: divMagicOffset, as: UInt.self)
    }
}

enum PageFlags {
    /// The page is on its heap's full list.
    static let inFull: UInt8 = 1
    /// Mid/L2.5 page: the owner's frees leave the Tiny fast path for freeOwned, whose
    /// first lines push them on the heap's bin with byte accounting (see Bin).
    static let binned: UInt8 = 2
    /// Checked or stats mode: every free of the page's blocks leaves the fast path
    /// (freeOwned dispatches to Checked.free / counts it).
    static let slowFree: UInt8 = 4
}

/// Header at the base of every segment and large mapping.
struct SegmentHeader {
    /// `UInt(bitPattern: base) ^ Secret.cookie`: proves the header is hakmem's.
    var cookie: UInt
    /// `SegmentKind`.
    var kind: UInt32
    /// Pooled: index of the segment's entry in Segments.table (its slice masks).
    var tableIndex: Int
    /// Large: links in the large cache.
    var next: UnsafeMutablePointer<SegmentHeader>?
    var prev: UnsafeMutablePointer<SegmentHeader>?
    /// Large: total bytes mapped from the base.
    var mappingSize: Int
    /// Large: the user block (nil while the mapping sits in the large cache).
    var userBlock: UnsafeMutableRawPointer?
    /// Large: bytes requested by the user (for diagnostics); usable = end - userBlock.
    var requested: Int
    /// Large: time the mapping entered the cache (ns).
    var cachedAt: UInt64
    /// Large: the mapping is fresh from mmap and untouched since (calloc may skip
    /// clearing).
    var isFreshZero: Bool
    /// Large: the mapping is in the cache with every page after the header's
    /// PROT_NONE (Large.guardBody); false whenever the block is live.
    var isGuarded: Bool
}

extension SegmentHeader {
    /// Byte offsets of `cookie` and `kind` (a unit test checks them).
    static let cookieOffset = 0
    static let kindOffset = 8
    /// `cookie` and `kind` of a header, read with raw loads: any thread reads them
    /// (free, realloc, malloc_usable_size) while another may be updating the slice
    /// masks of the same pooled segment under Locks.segments, and a Swift access to
    /// `pointee` covers the whole header. Both are fixed while the segment is mapped.
    @inline(__always)
    static func cookie(_ header: UnsafeMutablePointer<SegmentHeader>) -> UInt {
        UnsafeRawPointer(header).load(fromByteOffset: cookieOffset, as: UInt.self)
    }
    @inline(__always)
    static func kind(_ header: UnsafeMutablePointer<SegmentHeader>) -> UInt32 {
        UnsafeRawPointer(header).load(fromByteOffset: kindOffset, as: UInt32.self)
    }
}

enum SegmentKind {
    static let pooled: UInt32 = 1
    static let large: UInt32 = 2
}

/// The slice masks of one pooled segment, an entry of the dense Segments.table
/// (guarded by Locks.segments, as everything in Segments).
struct SegmentEntry {
    var segment: UnsafeMutablePointer<SegmentHeader>
    /// Bit i set <=> slice i in use by a page (bit 0 = the header's metadata slice).
    var usedSlices: UInt64
    /// Free slices that may still be resident (not yet purged), freed since the last
    /// purge tick.
    var dirtySlices: UInt64
    /// Free slices that were dirty at the last purge tick: the next tick purges them.
    var agedSlices: UInt64
    /// Time (ns) of the segment's next purge tick; 0 = none pending.
    var purgeAt: UInt64
}

/// Offsets of the arrays that follow the SegmentHeader in slice 0.
///
/// pageOf has `pageOfColours` rows of 64 entries; a segment uses only the row of its
/// colour, bits 22...24 of its address, so the entry of an address is its bits 16...24
/// (`pageOfEntry`). Segments are 4 MiB-aligned: with one row, the pageOf lines of every
/// segment fell in the same 8 of the 64 sets of the L1 cache (cachegrind, random_mixed
/// ws=8192 16..32768, ~20 segments: 83 % of the fast free's pageOf loads missed L1).
enum SegmentLayout {
    static let pageOfColours = 8
    static let pageOfOffset = (MemoryLayout<SegmentHeader>.stride + 63) & ~63
    static let pagesOffset = pageOfOffset + pageOfColours * Geometry.slicesPerSegment * 8

    /// Index into pageOf of the slice holding `address` (in its segment's colour row).
    @inline(__always)
    static func pageOfEntry(_ address: UInt) -> Int {
        Int(truncatingIfNeeded: address >> UInt(Geometry.sliceShift))
            & (pageOfColours * Geometry.slicesPerSegment - 1)
    }
    static let metadataEnd = pagesOffset + Geometry.slicesPerSegment * Page.slotBytes
}

/// A doubly linked queue of pages.
struct PageQueue {
    var first: UnsafeMutablePointer<Page>?
    var last: UnsafeMutablePointer<Page>?
}

/// A per-thread LIFO cache of free blocks of one size class: a header followed by
/// Bins.capacity block pointers (slots[0..<count], newest last), Bins.stride bytes per
/// class inside the heap. Blocks in a bin still count as `used` in their pages and carry
/// the free tag; word 0 holds no link (user data, or zero), so popping clears only the
/// tag. Reusing the most recently freed block of the class keeps it cache-hot, which
/// page-ordered free lists cannot. Tiny and Mid bins are reached by malloc through
/// hak_tls_direct (Tiny: the inline fast path; Mid: the first lines of hak_malloc_slow),
/// L2.5 bins through the heap. The owner's free pushes through Page.binOffset (Tiny:
/// inline; Mid/L2.5: the first lines of freeOwned). Mid/L2.5 blocks are charged to
/// the heap's budget (Heap.binnedCharge).
///   count <= limit <= Bins.capacity;
///   charge == 0 (Tiny), blockSize (Mid), 4 * blockSize (L2.5);
///   sum over bins of count * charge == Heap.binnedCharge <= Options.threadCacheBytes;
///   blockSize == 0 (a bin its thread has not used yet, Bins.prepared): all fields 0,
///     an empty bin that takes no block (limit 0), like the empty bin of the C shim;
///   else heap == the heap the bin lies in, and limit, blockSize, charge are its class's;
///   every block in slots[0..<count] lies in a page owned by that heap (frees by other
///   threads go to the owner in remote batches, and a heap's pages change hands only
///   when it exits, after its bins are flushed).
/// MUST keep `count` first: the empty bin in the C shim is all zeroes (count 0).
struct Bin {
    var count: UInt32
    var limit: UInt32
    /// Block size of the class.
    var blockSize: UInt32
    /// What one cached block costs of the heap's budget (see Bins.charge).
    var charge: UInt32
    /// The heap the bin belongs to: a pop through the direct table charges it.
    var heap: UnsafeMutablePointer<Heap>?
}

/// A batch of blocks freed by one thread for the heap that owns them, in allocator
/// memory (RemoteMessage.swift): the header, then RemoteMessages.capacity block
/// pointers, RemoteMessages.size bytes in all.
///   count <= RemoteMessages.capacity; slots[0..<count] are validated blocks, free
///   (tagged), of pages the heap whose remoteMessages holds the message owned when
///   they were added (a page may have changed owner since: collectRemote re-dispatches).
///   A message is in exactly one place: a heap's remoteBatch (being filled), a heap's
///   remoteMessages, a heap's spare list, or a pool chain.
struct RemoteMessage {
    /// The next message in a remoteMessages stack, a spare list or a pool chain.
    var next: UnsafeMutablePointer<RemoteMessage>?
    /// In the pool: the next chain (set on a chain's first message only).
    var nextChain: UnsafeMutablePointer<RemoteMessage>?
    /// Blocks in the message.
    var count: Int
}

/// Per-thread heap: owns pages, serves the thread's allocations lock-free.
/// Followed in memory by `queues[SizeClass.count]` and `bins[SizeClass.count]` (each
/// Bins.stride bytes: header and slots).
struct Heap {
    /// Lock-free stack of blocks freed by other threads one at a time (see invariant);
    /// atomic.
    var remoteFree: UInt
    /// Lock-free stack of RemoteMessages: blocks other threads freed in batches (see
    /// invariant); atomic.
    var remoteMessages: UInt
    /// Pages whose every block is in use, of any class.
    var full: PageQueue
    /// Next heap in the heap pool's free list.
    var poolNext: UnsafeMutablePointer<Heap>?
    /// Remote frees this heap has collected (diagnostics).
    var collected: UInt
    /// What the blocks in this heap's bins cost of its budget (Bin.charge each).
    var binnedCharge: Int
    /// Blocks this thread freed for another heap (`remoteBatchOwner`), gathered in a
    /// message published to that heap's remoteMessages with one CAS (RemoteBatch.swift).
    var remoteBatchOwner: UInt
    var remoteBatch: UnsafeMutablePointer<RemoteMessage>?
    /// Empty messages kept for the next batches (RemoteMessages.take/give).
    var spareMessages: UnsafeMutablePointer<RemoteMessage>?
    var spareCount: Int
    /// Slow-path events left until the next bin decay step, and the class it visits
    /// (Bins.tick).
    var decayCountdown: Int
    var decayNext: Int
    /// The thread has started exiting; do not keep empty pages around.
    var isExiting: Bool

    static let abandonedMarker: UInt = 1
    /// Byte offset of `remoteMessages` and `full` (checked by a unit test, as
    /// Page.heapOffset).
    static let remoteMessagesOffset = 8
    static let fullOffset = 16
    static let queuesOffset = (MemoryLayout<Heap>.stride + 63) & ~63
    static let binsOffset = (queuesOffset + SizeClass.count * MemoryLayout<PageQueue>.stride + 63) & ~63
    static let totalSize = binsOffset + SizeClass.count * Bins.stride
    // Bin bounds: Options.threadCacheBytes of charge (Bins.charge) per heap, 1/8 of it per class.
}
