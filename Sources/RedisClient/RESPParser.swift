import NIOCore

/// Why bytes from Redis could not be read as RESP.
package struct RESPParsingError: Error, Hashable, CustomStringConvertible {
    /// What was wrong, with no dynamic values (usable as a metric label).
    package enum Code: String, Sendable, Hashable {
        case unknownType = "unknown type byte"
        case badLength = "bad length"
        case badInteger = "bad integer"
        case badDouble = "bad double"
        case badBoolean = "bad boolean"
        case badVerbatim = "bad verbatim string"
        case missingLineEnd = "missing CRLF"
        case tooDeep = "aggregates nested too deep"
        case tooLarge = "value too large"
    }

    package var code: Code
    /// Where in the stream, relative to the start of the reply.
    package var offset: Int

    package var description: String { "malformed RESP: \(code.rawValue) at byte \(offset)" }
}

/// Reads RESP values from a stream of bytes that may arrive split at any point.
///
/// ``next(from:)`` answers `nil` and consumes nothing until a whole value has arrived, so a
/// channel handler can call it again when more bytes come. Malformed input throws a
/// ``RESPParsingError``; the stream cannot be trusted after that and the connection should
/// be closed.
package struct RESPParser: Sendable {
    /// Deepest nesting of aggregates accepted.
    package var maximumDepth: Int
    /// Largest bulk string accepted, in bytes (Redis's own default `proto-max-bulk-len`).
    package var maximumBulkLength: Int
    /// Most elements accepted in one aggregate.
    package var maximumElements: Int

    package init(maximumDepth: Int = 64, maximumBulkLength: Int = 512 * 1024 * 1024, maximumElements: Int = 1 << 24) {
        self.maximumDepth = maximumDepth
        self.maximumBulkLength = maximumBulkLength
        self.maximumElements = maximumElements
    }

    /// The next whole value at the start of `buffer`, consumed; `nil` (nothing consumed)
    /// while the value is incomplete.
    package func next(from buffer: inout ByteBuffer) throws(RESPParsingError) -> RESPValue? {
        var cursor = Cursor(buffer: buffer, start: buffer.readerIndex, position: buffer.readerIndex)
        guard let value = try parseValue(&cursor, depth: 0) else { return nil }
        buffer.moveReaderIndex(to: cursor.position)
        return value
    }

    private struct Cursor {
        let buffer: ByteBuffer
        let start: Int
        var position: Int

        var end: Int { buffer.writerIndex }

        func error(_ code: RESPParsingError.Code) -> RESPParsingError {
            RESPParsingError(code: code, offset: position - start)
        }

        /// The bytes up to the next CRLF, which is consumed; `nil` if it has not arrived.
        mutating func line() throws(RESPParsingError) -> ByteBufferView? {
            let view = buffer.readableBytesView
            let base = buffer.readerIndex
            let from = view.startIndex + (position - base)
            guard let cr = view[from...].firstIndex(of: UInt8(ascii: "\r")) else { return nil }
            guard cr + 1 < view.endIndex else { return nil }
            guard view[cr + 1] == UInt8(ascii: "\n") else { throw error(.missingLineEnd) }
            let line = view[from..<cr]
            position += (cr - from) + 2
            return line
        }

        /// `count` bytes followed by CRLF; `nil` if they have not all arrived.
        mutating func bytes(_ count: Int) throws(RESPParsingError) -> ByteBuffer? {
            guard end - position >= count + 2 else { return nil }
            guard buffer.getInteger(at: position + count, as: UInt16.self) == 0x0D0A else {
                position += count
                throw error(.missingLineEnd)
            }
            let slice = buffer.getSlice(at: position, length: count)!
            position += count + 2
            return slice
        }
    }

    private func parseValue(_ cursor: inout Cursor, depth: Int) throws(RESPParsingError) -> RESPValue? {
        guard cursor.position < cursor.end else { return nil }
        let type = cursor.buffer.getInteger(at: cursor.position, as: UInt8.self)!
        let typeOffset = cursor.position
        cursor.position += 1
        switch type {
        case UInt8(ascii: "+"):
            return try cursor.line().map { .simpleString(String(decoding: $0, as: UTF8.self)) }
        case UInt8(ascii: "-"):
            return try cursor.line().map { .error(String(decoding: $0, as: UTF8.self)) }
        case UInt8(ascii: ":"):
            guard let line = try cursor.line() else { return nil }
            return .integer(try integer(line, cursor))
        case UInt8(ascii: "("):
            guard let line = try cursor.line() else { return nil }
            let text = String(decoding: line, as: UTF8.self)
            let digits = text.first == "-" || text.first == "+" ? text.dropFirst() : Substring(text)
            guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) else { throw cursor.error(.badInteger) }
            return .bigNumber(text)
        case UInt8(ascii: ","):
            guard let line = try cursor.line() else { return nil }
            return .double(try double(line, cursor))
        case UInt8(ascii: "#"):
            guard let line = try cursor.line() else { return nil }
            guard line.count == 1 else { throw cursor.error(.badBoolean) }
            switch line.first! {
            case UInt8(ascii: "t"): return .boolean(true)
            case UInt8(ascii: "f"): return .boolean(false)
            default: throw cursor.error(.badBoolean)
            }
        case UInt8(ascii: "_"):
            guard let line = try cursor.line() else { return nil }
            guard line.isEmpty else { throw cursor.error(.missingLineEnd) }
            return .null
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            guard let line = try cursor.line() else { return nil }
            let length = try integer(line, cursor)
            if length == -1, type == UInt8(ascii: "$") { return .null }
            guard length >= 0 else { throw cursor.error(.badLength) }
            guard length <= maximumBulkLength else { throw cursor.error(.tooLarge) }
            guard var bytes = try cursor.bytes(Int(length)) else { return nil }
            switch type {
            case UInt8(ascii: "$"):
                return .bulkString(bytes)
            case UInt8(ascii: "!"):
                return .error(String(buffer: bytes))
            default:
                guard bytes.readableBytes >= 4, bytes.getInteger(at: bytes.readerIndex + 3, as: UInt8.self) == UInt8(ascii: ":"),
                      let format = bytes.readString(length: 3) else { throw cursor.error(.badVerbatim) }
                bytes.moveReaderIndex(forwardBy: 1)
                return .verbatimString(format: format, bytes)
            }
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            guard depth < maximumDepth else { throw cursor.error(.tooDeep) }
            guard let line = try cursor.line() else { return nil }
            let count = try integer(line, cursor)
            if count == -1, type == UInt8(ascii: "*") { return .null }
            guard count >= 0 else { throw cursor.error(.badLength) }
            guard count <= maximumElements else { throw cursor.error(.tooLarge) }
            let isPairs = type == UInt8(ascii: "%") || type == UInt8(ascii: "|")
            let total = Int(count) * (isPairs ? 2 : 1)
            var values: [RESPValue] = []
            values.reserveCapacity(min(total, 1024))
            for _ in 0..<total {
                guard let value = try parseValue(&cursor, depth: depth + 1) else { return nil }
                values.append(value)
            }
            switch type {
            case UInt8(ascii: "*"): return .array(values)
            case UInt8(ascii: "~"): return .set(values)
            case UInt8(ascii: ">"): return .push(values)
            case UInt8(ascii: "%"):
                return .map(stride(from: 0, to: values.count, by: 2).map { RESPValue.Pair(values[$0], values[$0 + 1]) })
            default:
                // An attribute: out-of-band hints about the value that follows, which is the reply.
                // It counts as a level of nesting, so a run of attributes cannot exhaust the stack.
                return try parseValue(&cursor, depth: depth + 1)
            }
        default:
            cursor.position = typeOffset
            throw cursor.error(.unknownType)
        }
    }

    private func integer(_ line: ByteBufferView, _ cursor: Cursor) throws(RESPParsingError) -> Int64 {
        var value: Int64 = 0
        var negative = false
        var index = line.startIndex
        if index < line.endIndex, line[index] == UInt8(ascii: "-") || line[index] == UInt8(ascii: "+") {
            negative = line[index] == UInt8(ascii: "-")
            index += 1
        }
        guard index < line.endIndex else { throw cursor.error(.badInteger) }
        while index < line.endIndex {
            let byte = line[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { throw cursor.error(.badInteger) }
            // Accumulated with the sign, so that Int64.min (whose magnitude Int64 cannot hold) reads.
            let digit = Int64(byte - UInt8(ascii: "0"))
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { throw cursor.error(.badInteger) }
            value = sum
            index += 1
        }
        return value
    }

    private func double(_ line: ByteBufferView, _ cursor: Cursor) throws(RESPParsingError) -> Double {
        let text = String(decoding: line, as: UTF8.self)
        switch text {
        case "inf", "+inf": return .infinity
        case "-inf": return -.infinity
        case "nan", "-nan": return .nan
        default:
            guard let value = Double(text), value.isFinite else { throw cursor.error(.badDouble) }
            return value
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
