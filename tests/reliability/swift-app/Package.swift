// swift-tools-version:5.9
// A tiny Foundation + Swift-concurrency program for the hakmem reliability
// suite (tests/reliability/swift.sh): its output must be identical under glibc
// and under hakmem, and equal to expected.txt.
import PackageDescription

let package = Package(
    name: "swift-app",
    targets: [
        .executableTarget(name: "SwiftApp", path: "Sources/SwiftApp"),
    ]
)
