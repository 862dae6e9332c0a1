import NIOCore

/// An incremental parser for `text/event-stream` bodies, as the WHATWG HTML standard
/// ("Server-sent events", §9.2.6) defines them.
///
/// Feed it the body's bytes in whatever pieces they arrive; it returns the events each
/// piece completes. A split anywhere — mid-line, between CR and LF, inside a UTF-8
/// sequence — makes no difference. Lines end with LF, CR or CRLF; lines starting with `:`
/// are comments; `event`, `data`, `id` and `retry` are the fields, any other field (or a
/// line without a colon naming no known field) is ignored; one space after the colon is
/// stripped; several `data:` lines make one event, joined with `"\n"`.
///
/// It scans bytes and copies only a line that spans two pieces. What it buffers for one
/// event is bounded by `maximumEventSize`; beyond that `feed` throws and the stream should
/// be abandoned.
///
/// Unlike a browser, ``finish()`` dispatches an event the stream ended in without its
/// final blank line, so that a server's last event is not lost.
package struct ServerSentEventParser: Sendable {
    /// A stream the parser refuses.
    package struct Error: Swift.Error, Sendable, Hashable, CustomStringConvertible {
        /// The limit that was exceeded, in bytes.
        package var limit: Int

        package var description: String {
            "server-sent event larger than \(limit) bytes"
        }
    }

    /// The most bytes one event (its current line and its data so far) may take.
    package let maximumEventSize: Int
    /// The reconnection time the stream asked for (`retry:`), if it did.
    package private(set) var reconnectionTime: Duration?

    /// The start of a line that continues in the next piece.
    private var partialLine: [UInt8] = []
    /// The data of the event being built, each line followed by LF.
    private var data: [UInt8] = []
    private var eventType: String?
    private var lastEventID: String?
    /// The previous piece ended with CR: an LF at the start of the next is part of that line end.
    private var skipsLeadingLF = false
    /// No line has been seen yet: the first may start with a byte order mark.
    private var atStreamStart = true

    /// - Parameter maximumEventSize: the most bytes one event may take (default 8 MiB).
    package init(maximumEventSize: Int = 8 << 20) {
        self.maximumEventSize = maximumEventSize
    }

    /// Parses the next piece of the stream and answers the events it completes.
    /// - Throws: ``Error`` when an event grows beyond ``maximumEventSize``.
    package mutating func feed(_ buffer: ByteBuffer) throws -> [ServerSentEvent] {
        try buffer.withUnsafeReadableBytes { try self.parse($0) }
    }

    /// Parses the next piece of the stream and answers the events it completes.
    /// - Throws: ``Error`` when an event grows beyond ``maximumEventSize``.
    package mutating func feed<Bytes: Sequence>(_ bytes: Bytes) throws -> [ServerSentEvent] where Bytes.Element == UInt8 {
        if let events = try bytes.withContiguousStorageIfAvailable({ try self.parse(UnsafeRawBufferPointer($0)) }) {
            return events
        }
        return try Array(bytes).withUnsafeBytes { try self.parse($0) }
    }

    /// Ends the stream: parses a last line without its line end and dispatches an event
    /// without its final blank line. The parser is then ready for a new stream.
    package mutating func finish() -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        if !partialLine.isEmpty {
            var line: [UInt8] = []
            swap(&line, &partialLine)
            line.withUnsafeBytes { processLine($0, into: &events) }
        }
        dispatch(into: &events)
        self = ServerSentEventParser(maximumEventSize: maximumEventSize)
        return events
    }

    private mutating func parse(_ bytes: UnsafeRawBufferPointer) throws -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        let count = bytes.count
        var index = 0
        if skipsLeadingLF, count > 0 {
            skipsLeadingLF = false
            if bytes[0] == .lineFeed { index = 1 }
        }
        var lineStart = index
        while index < count {
            let byte = bytes[index]
            guard byte == .lineFeed || byte == .carriageReturn else {
                index &+= 1
                continue
            }
            let piece = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<index])
            if partialLine.isEmpty {
                try checkSize(piece.count)
                processLine(piece, into: &events)
            } else {
                var line: [UInt8] = []
                swap(&line, &partialLine)
                line.append(contentsOf: piece)
                try checkSize(line.count)
                line.withUnsafeBytes { processLine($0, into: &events) }
                line.removeAll(keepingCapacity: true)
                partialLine = line
            }
            try checkSize(0)
            if byte == .carriageReturn {
                if index + 1 < count {
                    if bytes[index + 1] == .lineFeed { index &+= 1 }
                } else {
                    skipsLeadingLF = true
                }
            }
            index &+= 1
            lineStart = index
        }
        if lineStart < count {
            partialLine.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[lineStart..<count]))
            try checkSize(partialLine.count)
        }
        return events
    }

    /// Throws when the event being built, with a line of `lineLength` bytes, is too large.
    private mutating func checkSize(_ lineLength: Int) throws {
        if data.count + lineLength > maximumEventSize {
            partialLine = []
            data = []
            throw Error(limit: maximumEventSize)
        }
    }

    private mutating func processLine(_ line: UnsafeRawBufferPointer, into events: inout [ServerSentEvent]) {
        var line = line[...]
        if atStreamStart {
            atStreamStart = false
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line = line.dropFirst(3) }
        }
        guard let first = line.first else {
            dispatch(into: &events)
            return
        }
        if first == .colon { return }

        let name: Slice<UnsafeRawBufferPointer>
        var value: Slice<UnsafeRawBufferPointer>
        if let colon = line.firstIndex(of: .colon) {
            name = line[..<colon]
            value = line[(colon + 1)...]
            if value.first == .space { value = value.dropFirst() }
        } else {
            name = line
            value = line[line.endIndex...]
        }

        if name.elementsEqual("data".utf8) {
            data.append(contentsOf: value)
            data.append(.lineFeed)
        } else if name.elementsEqual("event".utf8) {
            eventType = String(decoding: value, as: UTF8.self)
        } else if name.elementsEqual("id".utf8) {
            if !value.contains(0) { lastEventID = String(decoding: value, as: UTF8.self) }
        } else if name.elementsEqual("retry".utf8) {
            if !value.isEmpty, value.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
               let milliseconds = Int64(String(decoding: value, as: UTF8.self)) {
                reconnectionTime = .milliseconds(milliseconds)
            }
        }
    }

    private mutating func dispatch(into events: inout [ServerSentEvent]) {
        defer { eventType = nil }
        guard !data.isEmpty else { return }
        data.removeLast()
        let type = eventType.flatMap { $0.isEmpty ? nil : $0 }
        events.append(ServerSentEvent(event: type, data: String(decoding: data, as: UTF8.self), id: lastEventID))
        data.removeAll(keepingCapacity: true)
    }
}

extension UInt8 {
    fileprivate static let lineFeed = UInt8(ascii: "\n")
    fileprivate static let carriageReturn = UInt8(ascii: "\r")
    fileprivate static let colon = UInt8(ascii: ":")
    fileprivate static let space = UInt8(ascii: " ")
}
