import NIOCore

/// A Redis command as a value: its arguments and the type of its reply.
///
/// ```swift
/// let value = try await client.send(GET("greeting"))   // ByteBuffer?
/// ```
package protocol RedisCommand: Sendable {
    associatedtype Response: RESPDecodable = RESPValue
    /// Writes the command (``RESPCommandEncoder/start(_:)`` … ``RESPCommandEncoder/finish()``).
    func encode(into encoder: inout RESPCommandEncoder)
}

/// A type a reply can be read as.
package protocol RESPDecodable: Sendable {
    /// Reads the reply; error replies have already been turned into thrown errors.
    init(fromRESP value: RESPValue) throws(RedisClientError)
}

extension RESPDecodable {
    static func mismatch(_ value: RESPValue) -> RedisClientError {
        RedisClientError(.unexpectedResponse, "expected \(Self.self), got \(String(describing: value).prefix(200))")
    }
}

extension RESPValue: RESPDecodable {
    package init(fromRESP value: RESPValue) { self = value }
}

extension String: RESPDecodable {
    package init(fromRESP value: RESPValue) throws(RedisClientError) {
        guard let text = value.string else { throw Self.mismatch(value) }
        self = text
    }
}

extension Int: RESPDecodable {
    package init(fromRESP value: RESPValue) throws(RedisClientError) {
        guard let number = value.int64, let int = Int(exactly: number) else { throw Self.mismatch(value) }
        self = int
    }
}

extension Bool: RESPDecodable {
    package init(fromRESP value: RESPValue) throws(RedisClientError) {
        switch value {
        case .boolean(let flag): self = flag
        case .integer(let number): self = number != 0
        default: throw Self.mismatch(value)
        }
    }
}

extension ByteBuffer: RESPDecodable {
    package init(fromRESP value: RESPValue) throws(RedisClientError) {
        switch value {
        case .bulkString(let bytes), .verbatimString(_, let bytes): self = bytes
        case .simpleString(let text): self = ByteBuffer(string: text)
        default: throw Self.mismatch(value)
        }
    }
}

extension Optional: RESPDecodable where Wrapped: RESPDecodable {
    package init(fromRESP value: RESPValue) throws(RedisClientError) {
        if case .null = value { self = .none } else { self = try Wrapped(fromRESP: value) }
    }
}

extension Array: RESPDecodable where Element: RESPDecodable {
    package init(fromRESP value: RESPValue) throws(RedisClientError) {
        guard let elements = value.elements else { throw Self.mismatch(value) }
        var result: [Element] = []
        result.reserveCapacity(elements.count)
        for element in elements { result.append(try Element(fromRESP: element)) }
        self = result
    }
}

/// The reply of commands that answer `+OK`.
package struct RedisOK: RESPDecodable, Hashable {
    package init(fromRESP value: RESPValue) throws(RedisClientError) {
        guard case .simpleString = value else { throw Self.mismatch(value) }
    }
}
