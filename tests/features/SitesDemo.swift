// SitesDemo.swift -- the call-site API from Swift through the installed module map
// (`import Hakmem`), linked directly against libhakmem.
import Hakmem

let site: UInt = 0xABC
var blocks: [UnsafeMutableRawPointer] = []
for _ in 0..<50 {
    guard let p = hak_alloc_at(200, site) else { fatalError("hak_alloc_at failed") }
    p.storeBytes(of: 0x5A, as: UInt8.self)
    blocks.append(p)
}
for p in blocks.prefix(20) { hak_free_at(p, site) }
print("swift: allocated 50, freed 20 at site 0xabc")
hak_stats_print()
