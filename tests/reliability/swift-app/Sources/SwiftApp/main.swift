// SwiftApp: deterministic work on several threads with Foundation and Swift
// concurrency. stdout is deterministic (compared by swift.sh); stderr reports
// how many distinct threads did the work (must be > 1).
import Foundation

struct Record: Codable, Equatable {
    let id: Int
    let name: String
    let tags: [String]
    let scores: [Double]
    let meta: [String: Int]
    let child: Child?

    struct Child: Codable, Equatable {
        let label: String
        let values: [Int]
    }
}

/// FNV-1a, 64 bit
struct Hasher64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(_ bytes: some Sequence<UInt8>) {
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    }
    mutating func add(_ s: String) { add(s.utf8) }
    mutating func add(_ v: Int) { add(String(v)) }
}

final class Node {
    let value: Int
    var next: Node?
    init(_ value: Int, _ next: Node?) { self.value = value; self.next = next }
}

actor Tally {
    private(set) var records = 0
    func add(records n: Int) { records += n }
}

/// The threads that did work: task threads, Dispatch's and the plain ones.
final class ThreadIDs: @unchecked Sendable {
    private let lock = NSLock()
    private var ids = Set<UInt>()
    func addCurrent() {
        lock.lock(); ids.insert(UInt(bitPattern: Int(bitPattern: pthread_self()))); lock.unlock()
    }
    var count: Int { lock.lock(); defer { lock.unlock() }; return ids.count }
}
let threadIDs = ThreadIDs()

func makeRecord(_ i: Int) -> Record {
    let tags = (0..<(i % 7)).map { "tag-\($0)-" + String(repeating: "x", count: (i * $0) % 40) }
    let scores = (0..<(i % 5 + 1)).map { Double(i * 3 + $0) / 4.0 }
    var meta: [String: Int] = [:]
    for k in 0..<(i % 9) { meta["m\(k)"] = i &* 31 &+ k }
    let child = i % 3 == 0 ? nil : Record.Child(label: "c\(i)", values: Array(0..<(i % 50)))
    return Record(id: i, name: "record #\(i) " + String(repeating: "é", count: i % 13), tags: tags,
                  scores: scores, meta: meta, child: child)
}

/// Semantic checksum of a record (independent of JSON formatting).
func digest(_ r: Record, into h: inout Hasher64) {
    h.add(r.id); h.add(r.name)
    for t in r.tags { h.add(t) }
    for s in r.scores { h.add(Int(s * 4)) }
    for k in r.meta.keys.sorted() { h.add(k); h.add(r.meta[k]!) }
    if let c = r.child { h.add(c.label); for v in c.values { h.add(v) } }
}

func work(_ task: Int) throws -> (UInt64, Int) {
    var h = Hasher64()
    // dictionaries of arrays
    var dict: [String: [Int]] = [:]
    for j in 0..<3000 { dict["k\(task)-\(j % 97)", default: []].append(j &* (task + 1)) }
    for key in dict.keys.sorted() { h.add(key); h.add(dict[key]!.reduce(0, &+)) }
    // strings: build, split, join, replace
    var text = ""
    for j in 0..<500 { text += "word\(j % 37) " }
    let words = text.split(separator: " ")
    let joined = words.reversed().joined(separator: ",").replacingOccurrences(of: "word1", with: "W")
    h.add(joined)
    h.add(String(format: "%05d-%@", task, "fmt"))
    // a linked list of class instances (ARC)
    var head: Node? = nil
    for j in 0..<2000 { head = Node(j ^ task, head) }
    var sum = 0
    var n = head
    while let x = n { sum &+= x.value; n = x.next }
    h.add(sum)
    head = nil
    // JSON round trip
    let records = (0..<40).map { makeRecord(task * 1000 + $0) }
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys]
    let data = try enc.encode(records)
    let back = try JSONDecoder().decode([Record].self, from: data)
    guard back == records else { throw NSError(domain: "SwiftApp", code: 1) }
    for r in back { digest(r, into: &h) }
    // Data and sets
    var blob = Data()
    for j in 0..<4096 { blob.append(UInt8(truncatingIfNeeded: j &* task)) }
    h.add(blob)
    let set = Set((0..<1000).map { ($0 * task) % 257 })
    h.add(set.count)
    return (h.h, records.count)
}

// Plain threads redo the first tasks alongside the task group, so the allocator
// serves several threads at once even when the task pool happens to run every
// task on one thread (it did, in about one release run in ten, under glibc too).
final class PlainRuns: @unchecked Sendable {
    let lock = NSLock()
    var sums = [UInt64](repeating: 0, count: 4)
    let done = DispatchGroup()
}
let plain = PlainRuns()
for i in 0..<plain.sums.count {
    plain.done.enter()
    Thread {
        let (sum, _) = try! work(i)
        threadIDs.addCurrent()
        plain.lock.lock(); plain.sums[i] = sum; plain.lock.unlock()
        plain.done.leave()
    }.start()
}

let tasks = 100
let tally = Tally()
let results: [(Int, UInt64)] = await withTaskGroup(of: (Int, UInt64).self) { group in
    for t in 0..<tasks {
        group.addTask {
            let (sum, n) = try! work(t)
            threadIDs.addCurrent()
            await tally.add(records: n)
            return (t, sum)
        }
    }
    var all: [(Int, UInt64)] = []
    for await r in group { all.append(r) }
    return all.sorted { $0.0 < $1.0 }
}
await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
    plain.done.notify(queue: .global()) { done.resume() }
}
for (i, sum) in plain.sums.enumerated() where sum != results[i].1 {
    FileHandle.standardError.write("plain thread \(i) computed another checksum than task \(i)\n".data(using: .utf8)!)
    exit(1)
}
// plus Dispatch's own thread pool
var extra = [UInt64](repeating: 0, count: 16)
let lock = NSLock()
DispatchQueue.concurrentPerform(iterations: extra.count) { i in
    let (sum, _) = try! work(1000 + i)
    threadIDs.addCurrent()
    lock.lock()
    extra[i] = sum
    lock.unlock()
}
var total = Hasher64()
for (t, s) in results { total.add(t); total.add(String(s, radix: 16)) }
for s in extra { total.add(String(s, radix: 16)) }
print("tasks: \(results.count)")
print("records: \(await tally.records)")
print("checksum: \(String(total.h, radix: 16))")
FileHandle.standardError.write("threads: \(threadIDs.count)\n".data(using: .utf8)!)
