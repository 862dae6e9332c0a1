import NIOCore

/// One reply of the Redis serialization protocol (RESP3, which includes all of RESP2).
///
/// Strings that Redis sends as bytes (bulk strings, verbatim strings) stay `ByteBuffer`s, so
/// a value that is not UTF-8 survives. Attributes (`|`) carry out-of-band hints and are
/// dropped by the parser; the value they annotate is what the caller sees.
package enum RESPValue: Sendable, Hashable {
    /// `+OK`
    case simpleString(String)
    /// `-ERR …` or `!` (a bulk error): Redis refused the command.
    case error(String)
    /// `:42`
    case integer(Int64)
    /// `$5\r\nhello`
    case bulkString(ByteBuffer)
    /// `_`, or RESP2's null bulk string and null array.
    case null
    /// `,3.14`
    case double(Double)
    /// `#t` / `#f`
    case boolean(Bool)
    /// `(3492890328409238509324850943850943825024385`
    case bigNumber(String)
    /// `=15\r\ntxt:Some string`
    case verbatimString(format: String, ByteBuffer)
    /// `*2\r\n…`
    case array([RESPValue])
    /// `%1\r\n…`: pairs in the order Redis sent them.
    case map([Pair])
    /// `~2\r\n…`
    case set([RESPValue])
    /// `>3\r\n…`: a message Redis sends on its own (pub/sub), not the reply to a command.
    case push([RESPValue])

    /// One key and value of a ``RESPValue/map(_:)``.
    package struct Pair: Sendable, Hashable {
        package var key: RESPValue
        package var value: RESPValue

        package init(_ key: RESPValue, _ value: RESPValue) {
            self.key = key
            self.value = value
        }
    }
}

extension RESPValue {
    /// The value as text when it is a string of any kind or a number.
    package var string: String? {
        switch self {
        case .simpleString(let text), .bigNumber(let text): text
        case .bulkString(let bytes), .verbatimString(_, let bytes): String(buffer: bytes)
        case .integer(let value): String(value)
        case .double(let value): String(value)
        default: nil
        }
    }

    /// The value as an integer when it is one, or a string that reads as one.
    package var int64: Int64? {
        switch self {
        case .integer(let value): value
        case .double(let value): Int64(exactly: value)
        case .simpleString, .bulkString, .bigNumber: string.flatMap { Int64($0) }
        default: nil
        }
    }

    /// The elements of an array, set or push.
    package var elements: [RESPValue]? {
        switch self {
        case .array(let values), .set(let values), .push(let values): values
        case .map(let pairs): pairs.flatMap { [$0.key, $0.value] }
        default: nil
        }
    }

    /// The message of an error reply.
    package var errorMessage: String? {
        if case .error(let message) = self { message } else { nil }
    }
}

extension RESPValue: CustomStringConvertible {
    package var description: String {
        switch self {
        case .simpleString(let text): "+\(text)"
        case .error(let message): "-\(message)"
        case .integer(let value): ":\(value)"
        case .bulkString(let bytes): "\"\(String(buffer: bytes))\""
        case .null: "(null)"
        case .double(let value): ",\(value)"
        case .boolean(let value): value ? "#t" : "#f"
        case .bigNumber(let text): "(\(text)"
        case .verbatimString(let format, let bytes): "=\(format):\(String(buffer: bytes))"
        case .array(let values): "[\(values.map(\.description).joined(separator: ", "))]"
        case .map(let pairs): "{\(pairs.map { "\($0.key): \($0.value)" }.joined(separator: ", "))}"
        case .set(let values): "~[\(values.map(\.description).joined(separator: ", "))]"
        case .push(let values): ">[\(values.map(\.description).joined(separator: ", "))]"
        }
    }
}
