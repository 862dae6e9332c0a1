import NIOCore

/// A Lua script, run with `EVALSHA` and loaded (again) whenever Redis says `NOSCRIPT` —
/// after a restart or a `SCRIPT FLUSH`, scripts come back by themselves.
package struct RedisScript: Sendable, Hashable {
    /// A short name for logs and errors.
    package var name: String
    package var source: String

    package init(name: String, source: String) {
        self.name = name
        self.source = source
    }

    /// One argument of a script call.
    package enum Argument: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
        case string(String)
        case bytes(ByteBuffer)
        case integer(Int64)
        case double(Double)

        package init(stringLiteral value: String) { self = .string(value) }
        package init(integerLiteral value: Int64) { self = .integer(value) }

        func encode(into encoder: inout RESPCommandEncoder) {
            switch self {
            case .string(let text): encoder.append(text)
            case .bytes(let bytes): encoder.append(bytes)
            case .integer(let number): encoder.append(number)
            case .double(let number): encoder.append(number)
            }
        }
    }
}
