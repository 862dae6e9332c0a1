import NIOCore
import RedisClient
import Synchronization

/// A bulk string holding `text`.
func bulk(_ text: String) -> RESPValue {
    .bulkString(ByteBuffer(string: text))
}

/// A buffer holding exactly `bytes`.
func buffer(_ bytes: [UInt8]) -> ByteBuffer {
    ByteBuffer(bytes: bytes)
}

/// Every whole value at the start of `buffer`, consumed; an incomplete one is left in place.
func decodeAll(_ buffer: inout ByteBuffer, parser: RESPParser = RESPParser()) throws(RESPParsingError) -> [RESPValue] {
    var values: [RESPValue] = []
    while let value = try parser.next(from: &buffer) {
        values.append(value)
    }
    return values
}

/// Every whole value in `text`.
func decodeAll(_ text: String, parser: RESPParser = RESPParser()) throws(RESPParsingError) -> [RESPValue] {
    var bytes = ByteBuffer(string: text)
    return try decodeAll(&bytes, parser: parser)
}

/// The error `text` is rejected with, or `nil` if it is not.
func parsingError(_ text: String, parser: RESPParser = RESPParser()) -> RESPParsingError? {
    parsingError(ByteBuffer(string: text), parser: parser)
}

func parsingError(_ bytes: ByteBuffer, parser: RESPParser = RESPParser()) -> RESPParsingError? {
    var bytes = bytes
    do {
        _ = try decodeAll(&bytes, parser: parser)
        return nil
    } catch {
        return error
    }
}

/// Writes a value the way a RESP3 server does (the test's own serializer, independent of the
/// client's code, so that round trips check the parser against it).
func writeRESP(_ value: RESPValue, into buffer: inout ByteBuffer) {
    func line(_ type: Character, _ text: String) {
        buffer.writeString("\(type)\(text)\r\n")
    }
    func blob(_ type: Character, _ bytes: ByteBuffer) {
        line(type, String(bytes.readableBytes))
        buffer.writeImmutableBuffer(bytes)
        buffer.writeString("\r\n")
    }
    switch value {
    case .simpleString(let text): line("+", text)
    case .error(let message): line("-", message)
    case .integer(let number): line(":", String(number))
    case .bulkString(let bytes): blob("$", bytes)
    case .null: line("_", "")
    case .double(let number):
        line(",", number.isNaN ? "nan" : number.isInfinite ? (number > 0 ? "inf" : "-inf") : "\(number)")
    case .boolean(let flag): line("#", flag ? "t" : "f")
    case .bigNumber(let text): line("(", text)
    case .verbatimString(let format, let bytes):
        var content = ByteBuffer(string: format + ":")
        content.writeImmutableBuffer(bytes)
        blob("=", content)
    case .array(let values):
        line("*", String(values.count))
        for element in values { writeRESP(element, into: &buffer) }
    case .map(let pairs):
        line("%", String(pairs.count))
        for pair in pairs {
            writeRESP(pair.key, into: &buffer)
            writeRESP(pair.value, into: &buffer)
        }
    case .set(let values):
        line("~", String(values.count))
        for element in values { writeRESP(element, into: &buffer) }
    case .push(let values):
        line(">", String(values.count))
        for element in values { writeRESP(element, into: &buffer) }
    }
}

func encodedRESP(_ values: [RESPValue]) -> ByteBuffer {
    var buffer = ByteBuffer()
    for value in values { writeRESP(value, into: &buffer) }
    return buffer
}

/// A small, fast generator with a fixed seed, so that a failing fuzz case can be replayed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A value shared with `@Sendable` callbacks.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    var value: Value { mutex.withLock { $0 } }

    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { body(&$0) }
    }
}
