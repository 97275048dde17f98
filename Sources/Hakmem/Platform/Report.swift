// Report.swift -- one-line diagnostics on stderr, built without allocating.

import CHakmemShim

/// A fixed-capacity line buffer on the stack.
struct MessageLine {
    var bytes: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
         0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var count = 0
    static let capacity = 256

    mutating func append(byte: UInt8) {
        if count >= MessageLine.capacity { return }
        withUnsafeMutableBytes(of: &bytes) { $0[count] = byte }
        count += 1
    }

    mutating func append(_ text: StaticString) {
        let p = text.utf8Start
        for i in 0..<text.utf8CodeUnitCount { append(byte: p[i]) }
    }

    mutating func append(decimal value: UInt) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var n = 0
        var v = value
        withUnsafeMutableBytes(of: &digits) { d in
            repeat { d[n] = UInt8(48 + v % 10); v /= 10; n += 1 } while v > 0
            while n > 0 { n -= 1; append(byte: d[n]) }
        }
    }

    mutating func append(hex value: UInt) {
        append("0x")
        var started = false
        var shift = 60
        while shift >= 0 {
            let nibble = UInt8((value >> UInt(shift)) & 15)
            if nibble != 0 || started || shift == 0 {
                started = true
                append(byte: nibble < 10 ? 48 + nibble : 87 + nibble)
            }
            shift -= 4
        }
    }

    mutating func append(pointer: UnsafeRawPointer?) { append(hex: UInt(bitPattern: pointer)) }

    func write() {
        var copy = bytes
        let n = count
        withUnsafeBytes(of: &copy) { hak_os_write_stderr($0.baseAddress!, n) }
    }
}

enum Report {
    /// Prints `hakmem: error: <what> (pointer P[, detail]) ` and aborts the process.
    /// Used for heap misuse that would otherwise corrupt memory.
    @inline(never)
    static func fatal(_ what: StaticString, pointer: UnsafeRawPointer?,
                      detail: StaticString = "", value: UInt = 0) -> Never {
        var line = MessageLine()
        line.append("hakmem: error: ")
        line.append(what)
        line.append(" (pointer ")
        line.append(pointer: pointer)
        if detail.utf8CodeUnitCount > 0 {
            line.append(", ")
            line.append(detail)
            line.append(decimal: value)
        }
        line.append(")\n")
        line.write()
        abort()
    }

    /// Prints `hakmem: error: invalid <operation>: <what> (pointer P[, block size N])`
    /// and aborts: a pointer hakmem did not hand out reached free/realloc/...
    @inline(never)
    static func invalid(_ operation: StaticString, _ what: StaticString, pointer: UnsafeRawPointer?,
                        size: Int = 0) -> Never {
        var line = MessageLine()
        line.append("hakmem: error: invalid ")
        line.append(operation)
        line.append(": ")
        line.append(what)
        line.append(" (pointer ")
        line.append(pointer: pointer)
        if size > 0 {
            line.append(", block size ")
            line.append(decimal: UInt(size))
        }
        line.append(")\n")
        line.write()
        abort()
    }

    /// Checked mode: `hakmem: error: <what> (pointer P, tier T, N bytes[, given G])`,
    /// then abort.
    @inline(never)
    static func checked(_ what: StaticString, pointer: UnsafeRawPointer?, size: Int, given: UInt? = nil) -> Never {
        var line = MessageLine()
        line.append("hakmem: error: ")
        line.append(what)
        line.append(" (pointer ")
        line.append(pointer: pointer)
        line.append(", tier ")
        line.append(size <= Size.tinyMax ? "Tiny" : size <= Size.midMax ? "Mid" : size <= Size.poolMax ? "L2.5" : "Large")
        line.append(", ")
        line.append(decimal: UInt(size))
        line.append(" bytes")
        if let given {
            line.append(", given ")
            line.append(decimal: given)
        }
        line.append(")\n")
        line.write()
        abort()
    }

    /// Prints a warning line (no abort).
    static func warning(_ what: StaticString, pointer: UnsafeRawPointer? = nil) {
        var line = MessageLine()
        line.append("hakmem: warning: ")
        line.append(what)
        if let pointer { line.append(" "); line.append(pointer: pointer) }
        line.append("\n")
        line.write()
    }
}
