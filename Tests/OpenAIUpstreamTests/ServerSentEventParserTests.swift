import NIOCore
import Testing

@testable import OpenAIUpstream

@Suite struct ServerSentEventParserTests {
    /// A stream with every feature: BOM, LF/CR/CRLF line ends, comments, multi-line data,
    /// named events, ids, multi-byte UTF-8, unknown fields and lines without a colon.
    static let stream = Array(
        "\u{FEFF}: hello\r\ndata: first\n\nevent: delta\rid: 7\rdata: héllo €\r\ndata:  two\r\n\r\n"
            .utf8
    ) + Array("foo: bar\nnocolon\ndata:😀 ok\n\n:comment only\n\ndata\n\nid\ndata: x\r\n\r\n".utf8)

    static let expected = [
        ServerSentEvent(event: nil, data: "first", id: nil),
        ServerSentEvent(event: "delta", data: "héllo €\n two", id: "7"),
        ServerSentEvent(event: nil, data: "😀 ok", id: "7"),
        ServerSentEvent(event: nil, data: "", id: "7"),
        ServerSentEvent(event: nil, data: "x", id: ""),
    ]

    static func parse(_ pieces: [[UInt8]]) throws -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        for piece in pieces { events += try parser.feed(piece) }
        return events + parser.finish()
    }

    @Test func wholeStream() throws {
        #expect(try Self.parse([Self.stream]) == Self.expected)
    }

    @Test func everySplitPointYieldsTheSameEvents() throws {
        let bytes = Self.stream
        for split in 0...bytes.count {
            let events = try Self.parse([Array(bytes[..<split]), Array(bytes[split...])])
            #expect(events == Self.expected, "split at \(split)")
        }
    }

    @Test func everyPairOfSplitPointsYieldsTheSameEvents() throws {
        let bytes = Self.stream
        for first in stride(from: 0, through: bytes.count, by: 1) {
            for second in stride(from: first, through: bytes.count, by: 3) {
                let events = try Self.parse([Array(bytes[..<first]), Array(bytes[first..<second]), Array(bytes[second...])])
                #expect(events == Self.expected, "splits at \(first), \(second)")
            }
        }
    }

    @Test func byteByByte() throws {
        #expect(try Self.parse(Self.stream.map { [$0] }) == Self.expected)
    }

    @Test func byteBuffersAndViews() throws {
        var parser = ServerSentEventParser()
        var events = try parser.feed(ByteBuffer(bytes: Self.stream.prefix(40)))
        events += try parser.feed(ByteBuffer(bytes: Self.stream.dropFirst(40)).readableBytesView)
        #expect(events + parser.finish() == Self.expected)
    }

    @Test func crlfSplitBetweenCRAndLF() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.feed(Array("data: a\r".utf8)).isEmpty)
        // If the LF were a line of its own, the blank line would dispatch "a" alone.
        #expect(try parser.feed(Array("\ndata: b\r".utf8)).isEmpty)
        #expect(try parser.feed(Array("\n\r".utf8)) == [ServerSentEvent(data: "a\nb")])
        #expect(try parser.feed(Array("\ndata: c\r\r".utf8)) == [ServerSentEvent(data: "c")])
    }

    @Test func loneCRsEndLines() throws {
        #expect(try Self.parse([Array("data: a\rdata: b\r\rdata: c\r\r".utf8)]) == [
            ServerSentEvent(data: "a\nb"), ServerSentEvent(data: "c"),
        ])
    }

    @Test func commentsAreIgnored() throws {
        #expect(try Self.parse([Array(": ping\n\n:\n\n".utf8)]).isEmpty)
        #expect(try Self.parse([Array(":x\ndata: y\n: z\n\n".utf8)]) == [ServerSentEvent(data: "y")])
    }

    @Test func multiLineDataIsJoinedWithNewlines() throws {
        #expect(try Self.parse([Array("data: a\ndata:b\ndata:  c\ndata:\n\n".utf8)]) == [ServerSentEvent(data: "a\nb\n c\n")])
    }

    @Test func onlyOneLeadingSpaceIsStripped() throws {
        #expect(try Self.parse([Array("data:   x  \n\n".utf8)]) == [ServerSentEvent(data: "  x  ")])
    }

    @Test func malformedLinesAreIgnored() throws {
        let text = "nocolon\nfoo: bar\nDATA: upper case is another field\nretry: soon\ndata: kept\n\n"
        #expect(try Self.parse([Array(text.utf8)]) == [ServerSentEvent(data: "kept")])
        // A field without a colon has an empty value: "data" alone adds an empty line.
        #expect(try Self.parse([Array("data\n\n".utf8)]) == [ServerSentEvent(data: "")])
        // "event" alone sets the empty type, which is the default type.
        #expect(try Self.parse([Array("event\ndata: d\n\n".utf8)]) == [ServerSentEvent(event: nil, data: "d")])
    }

    @Test func blankLinesWithoutDataDispatchNothing() throws {
        #expect(try Self.parse([Array("\n\n\r\n\revent: lonely\n\n".utf8)]).isEmpty)
        // The type does not carry over to the next event.
        #expect(try Self.parse([Array("event: lonely\n\ndata: x\n\n".utf8)]) == [ServerSentEvent(data: "x")])
    }

    @Test func idsCarryOverAndNulIsRejected() throws {
        let text = "id: 1\ndata: a\n\ndata: b\n\nid: 2\u{0}x\ndata: c\n\nid\ndata: d\n\n"
        #expect(try Self.parse([Array(text.utf8)]).map(\.id) == ["1", "1", "1", ""])
    }

    @Test func retrySetsTheReconnectionTime() throws {
        var parser = ServerSentEventParser()
        _ = try parser.feed(Array("retry: 1500\nretry: 1x\n".utf8))
        #expect(parser.reconnectionTime == .milliseconds(1500))
    }

    @Test func finishDispatchesAnEventWithoutItsBlankLine() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.feed(Array("data: one\n\ndata: [DONE]".utf8)) == [ServerSentEvent(data: "one")])
        #expect(parser.finish() == [ServerSentEvent(data: "[DONE]")])
        // The parser starts over.
        #expect(parser.finish().isEmpty)
        #expect(try parser.feed(Array("data: two\n".utf8)).isEmpty)
        #expect(parser.finish() == [ServerSentEvent(data: "two")])
    }

    @Test func anOversizedEventIsRefused() throws {
        var parser = ServerSentEventParser(maximumEventSize: 16)
        #expect(try parser.feed(Array("data: 0123456789\n\n".utf8)) == [ServerSentEvent(data: "0123456789")])
        #expect(throws: ServerSentEventParser.Error(limit: 16)) {
            _ = try parser.feed(Array("data: 0123456789012345678".utf8))
        }
        var split = ServerSentEventParser(maximumEventSize: 16)
        _ = try split.feed(Array("data: 01234".utf8))
        #expect(throws: ServerSentEventParser.Error.self) { _ = try split.feed(Array("567890123456".utf8)) }
        var manyLines = ServerSentEventParser(maximumEventSize: 16)
        #expect(throws: ServerSentEventParser.Error.self) { _ = try manyLines.feed(Array("data: 01234\ndata: 56789\n".utf8)) }
    }

    @Test func writtenEventsParseBackToThemselves() throws {
        let events = [
            ServerSentEvent(data: "plain"),
            ServerSentEvent(event: "error", data: "two\nlines", id: "9"),
            ServerSentEvent(data: "", id: "9"),
            ServerSentEvent(data: " leading space and ünïcödé", id: "9"),
        ]
        var buffer = ByteBuffer()
        for event in events { event.write(into: &buffer) }
        #expect(String(buffer: buffer).hasPrefix("data: plain\n\nevent: error\nid: 9\ndata: two\ndata: lines\n\n"))
        var parser = ServerSentEventParser()
        #expect(try parser.feed(buffer) == events)
    }
}
