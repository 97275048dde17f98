// swift-tools-version:6.0
//
// hakmem: a malloc replacement written in Embedded Swift.
//
//   CHakmemShim   C: initial-exec TLS slots + inline accessors, OS/errno glue.
//   Hakmem        Embedded Swift (-no-allocations): all allocator logic.
//   HakmemExports C: the C-named entry points (malloc, free, ...) -> hak_* in Swift.
//   HakmemTestable the same Swift sources (symlinked) compiled as an ordinary module,
//                 so `swift test` exercises the allocator logic in-process.
//
// The release library is built with:
//   swift build -c release --product hakmem --experimental-lto-mode=full --omit-frame-pointers
// (see Makefile). Only the symbols in Sources/HakmemExports/exports.map are exported.
import PackageDescription

let embeddedFlags: [String] = [
    "-wmo", "-Xfrontend", "-function-sections", "-no-allocations", "-Xcc", "-fPIC",
]
let versionScript = "\(Context.packageDirectory)/Sources/HakmemExports/exports.map"

let package = Package(
    name: "hakmem",
    products: [
        .library(name: "hakmem", type: .dynamic, targets: ["HakmemExports", "Hakmem"]),
    ],
    targets: [
        .target(name: "CHakmemShim"),
        .target(
            name: "Hakmem",
            dependencies: ["CHakmemShim"],
            swiftSettings: [
                .enableExperimentalFeature("Embedded"),
                .unsafeFlags(embeddedFlags),
            ]),
        .target(
            name: "HakmemExports",
            dependencies: ["Hakmem"],
            linkerSettings: [
                .unsafeFlags(["-Xlinker", "--version-script=\(versionScript)",
                              "-Xlinker", "-z", "-Xlinker", "now"]),
            ]),
        .target(
            name: "HakmemTestable",
            dependencies: ["CHakmemShim"],
            swiftSettings: [.define("HAKMEM_TESTABLE")]),
        .testTarget(name: "HakmemTests", dependencies: ["HakmemTestable", "CHakmemShim"]),
    ]
)
