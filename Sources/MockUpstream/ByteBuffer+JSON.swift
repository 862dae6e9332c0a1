import NIOCore

extension ByteBuffer {
    /// Writes `string` as a JSON string literal, quotes included.
    mutating func writeJSONString(_ string: String) {
        var string = string
        string.withUTF8 { writeJSONString(utf8: $0) }
    }

    /// Writes UTF-8 `bytes` as a JSON string literal, quotes included, escaping what JSON requires.
    mutating func writeJSONString(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        writeInteger(UInt8(ascii: "\""))
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if runStart < index {
                writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[runStart..<index])))
            }
            switch byte {
            case UInt8(ascii: "\""): writeStaticString("\\\"")
            case UInt8(ascii: "\\"): writeStaticString("\\\\")
            case UInt8(ascii: "\n"): writeStaticString("\\n")
            case UInt8(ascii: "\r"): writeStaticString("\\r")
            case UInt8(ascii: "\t"): writeStaticString("\\t")
            case 0x08: writeStaticString("\\b")
            case 0x0C: writeStaticString("\\f")
            default:
                let hex: StaticString = "0123456789abcdef"
                writeStaticString("\\u00")
                writeInteger(hex.utf8Start[Int(byte >> 4)])
                writeInteger(hex.utf8Start[Int(byte & 0x0F)])
            }
            runStart = index + 1
        }
        if runStart < bytes.count {
            writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count])))
        }
        writeInteger(UInt8(ascii: "\""))
    }

    /// Writes `value` in decimal.
    mutating func writeDecimal(_ value: Int) {
        if value < 0 {
            writeInteger(UInt8(ascii: "-"))
            writeDecimal(UInt(value.magnitude))
        } else {
            writeDecimal(UInt(value))
        }
    }

    private mutating func writeDecimal(_ value: UInt) {
        if value >= 10 {
            writeDecimal(value / 10)
        }
        writeInteger(UInt8(ascii: "0") + UInt8(value % 10))
    }

    /// Writes `value` as a JSON number (`0` for values JSON cannot hold).
    mutating func writeJSONNumber(_ value: Double) {
        if value.isFinite {
            writeString(value.description)
        } else {
            writeStaticString("0")
        }
    }
}
