import NIOCore
import RedisClient
import Testing

@Suite struct RESPParserTests {
    // MARK: - Every type

    @Test func simpleStringAndError() throws {
        #expect(try decodeAll("+OK\r\n") == [.simpleString("OK")])
        #expect(try decodeAll("+\r\n") == [.simpleString("")])
        #expect(try decodeAll("+héllo wörld\r\n") == [.simpleString("héllo wörld")])
        #expect(try decodeAll("-ERR unknown command 'FOO'\r\n") == [.error("ERR unknown command 'FOO'")])
        #expect(try decodeAll("-WRONGTYPE Operation against a key\r\n").first?.errorMessage == "WRONGTYPE Operation against a key")
    }

    @Test func integers() throws {
        #expect(try decodeAll(":0\r\n") == [.integer(0)])
        #expect(try decodeAll(":42\r\n") == [.integer(42)])
        #expect(try decodeAll(":-42\r\n") == [.integer(-42)])
        #expect(try decodeAll(":+7\r\n") == [.integer(7)])
        #expect(try decodeAll(":9223372036854775807\r\n") == [.integer(.max)])
        #expect(try decodeAll(":-9223372036854775808\r\n") == [.integer(.min)])
        #expect(try decodeAll(":-9223372036854775807\r\n") == [.integer(.min + 1)])
    }

    @Test func bulkStrings() throws {
        #expect(try decodeAll("$5\r\nhello\r\n") == [bulk("hello")])
        #expect(try decodeAll("$0\r\n\r\n") == [bulk("")])
        // CR, LF, CRLF and NUL inside the payload are data, not delimiters.
        let binary: [UInt8] = [0x00, 0x0D, 0x0A, 0xFF, 0x0D, 0x00, 0x0A, 0x80, 0x0D, 0x0A]
        var bytes = ByteBuffer(string: "$\(binary.count)\r\n")
        bytes.writeBytes(binary)
        bytes.writeString("\r\n")
        #expect(try decodeAll(&bytes) == [.bulkString(buffer(binary))])
        #expect(bytes.readableBytes == 0)
        // Every byte value.
        let all = (0...255).map { UInt8($0) }
        var everyByte = ByteBuffer(string: "$256\r\n")
        everyByte.writeBytes(all)
        everyByte.writeString("\r\n")
        #expect(try decodeAll(&everyByte) == [.bulkString(buffer(all))])
    }

    @Test func nulls() throws {
        #expect(try decodeAll("_\r\n") == [.null])
        #expect(try decodeAll("$-1\r\n") == [.null])
        #expect(try decodeAll("*-1\r\n") == [.null])
    }

    @Test func doubles() throws {
        #expect(try decodeAll(",3.14\r\n") == [.double(3.14)])
        #expect(try decodeAll(",-2.5\r\n") == [.double(-2.5)])
        #expect(try decodeAll(",10\r\n") == [.double(10)])
        #expect(try decodeAll(",1.5e3\r\n") == [.double(1500)])
        #expect(try decodeAll(",inf\r\n") == [.double(.infinity)])
        #expect(try decodeAll(",+inf\r\n") == [.double(.infinity)])
        #expect(try decodeAll(",-inf\r\n") == [.double(-.infinity)])
        let nan = try decodeAll(",nan\r\n")
        guard case .double(let value) = try #require(nan.first) else {
            Issue.record("expected a double, got \(nan)")
            return
        }
        #expect(value.isNaN)
    }

    @Test func booleans() throws {
        #expect(try decodeAll("#t\r\n") == [.boolean(true)])
        #expect(try decodeAll("#f\r\n") == [.boolean(false)])
    }

    @Test func bigNumbers() throws {
        #expect(try decodeAll("(3492890328409238509324850943850943825024385\r\n") == [.bigNumber("3492890328409238509324850943850943825024385")])
        #expect(try decodeAll("(-3492890328409238509324850943850943825024385\r\n") == [.bigNumber("-3492890328409238509324850943850943825024385")])
    }

    @Test func bulkErrors() throws {
        #expect(try decodeAll("!21\r\nSYNTAX invalid syntax\r\n") == [.error("SYNTAX invalid syntax")])
        #expect(try decodeAll("!4\r\nA\r\nB\r\n") == [.error("A\r\nB")])
    }

    @Test func verbatimStrings() throws {
        #expect(try decodeAll("=15\r\ntxt:Some string\r\n") == [.verbatimString(format: "txt", ByteBuffer(string: "Some string"))])
        #expect(try decodeAll("=4\r\nmkd:\r\n") == [.verbatimString(format: "mkd", ByteBuffer())])
        #expect(try decodeAll("=9\r\ntxt:a\r\nb\0\r\n") == [.verbatimString(format: "txt", ByteBuffer(string: "a\r\nb\0"))])
    }

    @Test func aggregates() throws {
        #expect(try decodeAll("*0\r\n") == [.array([])])
        #expect(try decodeAll("*3\r\n:1\r\n$3\r\nfoo\r\n_\r\n") == [.array([.integer(1), bulk("foo"), .null])])
        #expect(try decodeAll("*2\r\n$-1\r\n*-1\r\n") == [.array([.null, .null])])
        #expect(try decodeAll("%2\r\n+first\r\n:1\r\n+second\r\n#f\r\n") == [
            .map([.init(.simpleString("first"), .integer(1)), .init(.simpleString("second"), .boolean(false))]),
        ])
        #expect(try decodeAll("%0\r\n") == [.map([])])
        #expect(try decodeAll("~3\r\n+a\r\n+b\r\n:3\r\n") == [.set([.simpleString("a"), .simpleString("b"), .integer(3)])])
        #expect(try decodeAll(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n") == [.push([bulk("message"), bulk("ch"), bulk("hi")])])
    }

    @Test func attributesAreDroppedBeforeTheirValue() throws {
        let attributed = "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n"
        #expect(try decodeAll(attributed) == [.array([.integer(2_039_123), .integer(9_543_892)])])
        // Inside an aggregate, the attribute annotates the element that follows it.
        #expect(try decodeAll("*2\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n+two\r\n:3\r\n") == [.array([.integer(1), .simpleString("two")]), .integer(3)])
        // An empty attribute, and several in a row.
        #expect(try decodeAll("|0\r\n|1\r\n+a\r\n+b\r\n:5\r\n") == [.integer(5)])
        // An attribute whose value has not arrived yet is incomplete: nothing is consumed.
        var partial = ByteBuffer(string: "|1\r\n+a\r\n+b\r\n")
        #expect(try RESPParser().next(from: &partial) == nil)
        #expect(partial.readableBytes == 12)
    }

    @Test func nestedAggregates() throws {
        let text = "*3\r\n" +
            "%2\r\n" +
            "$4\r\nlist\r\n*3\r\n:1\r\n:2\r\n*2\r\n:3\r\n~1\r\n#t\r\n" +
            "$5\r\nempty\r\n*0\r\n" +
            "*1\r\n*1\r\n*1\r\n*1\r\n$4\r\ndeep\r\n" +
            ">2\r\n%1\r\n+k\r\n*2\r\n_\r\n,1.5\r\n(12345678901234567890\r\n"
        let expected: RESPValue = .array([
            .map([
                .init(bulk("list"), .array([.integer(1), .integer(2), .array([.integer(3), .set([.boolean(true)])])])),
                .init(bulk("empty"), .array([])),
            ]),
            .array([.array([.array([.array([bulk("deep")])])])]),
            .push([.map([.init(.simpleString("k"), .array([.null, .double(1.5)]))]), .bigNumber("12345678901234567890")]),
        ])
        #expect(try decodeAll(text) == [expected])
    }

    @Test func nestingUpToTheLimitIsAccepted() throws {
        let parser = RESPParser(maximumDepth: 8)
        let text = String(repeating: "*1\r\n", count: 8) + ":1\r\n"
        var expected = RESPValue.integer(1)
        for _ in 0..<8 { expected = .array([expected]) }
        #expect(try decodeAll(text, parser: parser) == [expected])
    }

    // MARK: - Streams split anywhere

    /// Several replies of every type back to back, and what they decode to.
    static let stream: (bytes: ByteBuffer, values: [RESPValue]) = {
        var bytes = ByteBuffer()
        bytes.writeString("+OK\r\n-ERR no\r\n:-9223372036854775808\r\n:9223372036854775807\r\n$0\r\n\r\n")
        bytes.writeString("$6\r\n")
        bytes.writeBytes([0x61, 0x0D, 0x0A, 0x00, 0x0D, 0x0A])
        bytes.writeString("\r\n_\r\n$-1\r\n*-1\r\n,3.25\r\n,-inf\r\n#t\r\n(123456789012345678901234567890\r\n")
        bytes.writeString("!3\r\nBAD\r\n=7\r\ntxt:a\r\n\r\n*2\r\n:1\r\n%1\r\n+k\r\n~2\r\n+x\r\n+y\r\n")
        bytes.writeString(">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\np\r\n|1\r\n+hint\r\n+yes\r\n$2\r\nok\r\n+last\r\n")
        let values: [RESPValue] = [
            .simpleString("OK"), .error("ERR no"), .integer(.min), .integer(.max), bulk(""),
            .bulkString(buffer([0x61, 0x0D, 0x0A, 0x00, 0x0D, 0x0A])),
            .null, .null, .null, .double(3.25), .double(-.infinity), .boolean(true),
            .bigNumber("123456789012345678901234567890"),
            .error("BAD"), .verbatimString(format: "txt", ByteBuffer(string: "a\r\n")),
            .array([.integer(1), .map([.init(.simpleString("k"), .set([.simpleString("x"), .simpleString("y")]))])]),
            .push([bulk("message"), bulk("c"), bulk("p")]),
            bulk("ok"),
            .simpleString("last"),
        ]
        return (bytes, values)
    }()

    @Test func theStreamDecodesWhole() throws {
        var bytes = Self.stream.bytes
        #expect(try decodeAll(&bytes) == Self.stream.values)
        #expect(bytes.readableBytes == 0)
    }

    @Test func everySplitPointInTwoParts() throws {
        let whole = Self.stream.bytes
        for offset in 0...whole.readableBytes {
            var received = whole.getSlice(at: 0, length: offset)!
            var values = try decodeAll(&received)
            #expect(values == Array(Self.stream.values.prefix(values.count)), "split at byte \(offset)")
            received.writeImmutableBuffer(whole.getSlice(at: offset, length: whole.readableBytes - offset)!)
            values += try decodeAll(&received)
            #expect(values == Self.stream.values, "split at byte \(offset)")
            #expect(received.readableBytes == 0, "split at byte \(offset)")
        }
    }

    @Test func oneByteAtATime() throws {
        let whole = Self.stream.bytes
        var received = ByteBuffer()
        var values: [RESPValue] = []
        for index in 0..<whole.readableBytes {
            received.writeImmutableBuffer(whole.getSlice(at: index, length: 1)!)
            let before = received
            let decoded = try decodeAll(&received)
            if decoded.isEmpty {
                #expect(received == before, "nothing consumed while incomplete (byte \(index))")
            }
            values += decoded
        }
        #expect(values == Self.stream.values)
        #expect(received.readableBytes == 0)
    }

    @Test func incompleteInputConsumesNothing() throws {
        let parser = RESPParser()
        for text in ["", "+OK", "+OK\r", ":12", "$5\r\nhel", "$5\r\nhello", "$5\r\nhello\r", "*2\r\n:1\r\n", "%1\r\n+k\r\n", "=15\r\ntxt:Some", "|1\r\n+a\r\n"] {
            var bytes = ByteBuffer(string: text)
            let readerIndex = bytes.readerIndex
            #expect(try parser.next(from: &bytes) == nil, "\(text.debugDescription)")
            #expect(bytes.readerIndex == readerIndex, "\(text.debugDescription)")
        }
    }

    @Test func roundTripOfRandomValues() throws {
        var generator = SplitMix64(seed: 0x5EED_0001)
        for iteration in 0..<500 {
            let values = (0..<Int.random(in: 1...4, using: &generator)).map { _ in Self.randomValue(depth: 0, using: &generator) }
            var bytes = encodedRESP(values)
            #expect(try decodeAll(&bytes) == values, "iteration \(iteration)")
            #expect(bytes.readableBytes == 0)
        }
    }

    static func randomValue(depth: Int, using generator: inout SplitMix64) -> RESPValue {
        let kinds = depth >= 4 ? 9 : 13
        func randomBytes() -> ByteBuffer {
            buffer((0..<Int.random(in: 0...12, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        func randomWord() -> String {
            let characters = Array("abcxyz é😀 -:")
            return String((0..<Int.random(in: 0...8, using: &generator)).map { _ in characters.randomElement(using: &generator)! })
        }
        func children() -> [RESPValue] {
            (0..<Int.random(in: 0...3, using: &generator)).map { _ in randomValue(depth: depth + 1, using: &generator) }
        }
        switch Int.random(in: 0..<kinds, using: &generator) {
        case 0: return .simpleString(randomWord())
        case 1: return .error("ERR " + randomWord())
        case 2: return .integer(Int64.random(in: .min ... .max, using: &generator))
        case 3: return .bulkString(randomBytes())
        case 4: return .null
        case 5: return .double(Double.random(in: -1e9...1e9, using: &generator))
        case 6: return .boolean(Bool.random(using: &generator))
        case 7: return .bigNumber(String(UInt64.random(in: 0 ... .max, using: &generator)) + String(UInt64.random(in: 0 ... .max, using: &generator)))
        case 8: return .verbatimString(format: "txt", randomBytes())
        case 9: return .array(children())
        case 10: return .map((0..<Int.random(in: 0...2, using: &generator)).map { _ in .init(randomValue(depth: depth + 1, using: &generator), randomValue(depth: depth + 1, using: &generator)) })
        case 11: return .set(children())
        default: return .push(children())
        }
    }

    // MARK: - Malformed input

    @Test(arguments: [
        ("?1\r\n", RESPParsingError.Code.unknownType),
        ("\r\n", .unknownType),
        ("*1\r\nX\r\n", .unknownType),
        ("+OK\rX", .missingLineEnd),
        (":1\r:", .missingLineEnd),
        ("$3\r\nabcXY", .missingLineEnd),
        ("$3\r\nabc\rX", .missingLineEnd),
        ("_x\r\n", .missingLineEnd),
        ("$abc\r\n", .badInteger),
        ("$\r\n", .badInteger),
        ("*1x\r\n", .badInteger),
        (":\r\n", .badInteger),
        (":-\r\n", .badInteger),
        (":12a\r\n", .badInteger),
        (": 1\r\n", .badInteger),
        (":9223372036854775808\r\n", .badInteger),
        (":-9223372036854775809\r\n", .badInteger),
        (":99999999999999999999999\r\n", .badInteger),
        ("$99999999999999999999\r\n", .badInteger),
        ("$-2\r\n", .badLength),
        ("*-2\r\n", .badLength),
        ("%-1\r\n", .badLength),
        ("~-1\r\n", .badLength),
        (">-1\r\n", .badLength),
        ("!-1\r\n", .badLength),
        ("=-1\r\n", .badLength),
        ("|-1\r\n", .badLength),
        ("#x\r\n", .badBoolean),
        ("#tt\r\n", .badBoolean),
        ("#\r\n", .badBoolean),
        (",abc\r\n", .badDouble),
        (",\r\n", .badDouble),
        (",infinity\r\n", .badDouble),
        ("(12a\r\n", .badInteger),
        ("(\r\n", .badInteger),
        ("=3\r\ntxt\r\n", .badVerbatim),
        ("=0\r\n\r\n", .badVerbatim),
        ("=5\r\ntxt-a\r\n", .badVerbatim),
    ])
    func malformedInputThrows(text: String, code: RESPParsingError.Code) {
        let error = parsingError(text)
        #expect(error?.code == code, "\(text.debugDescription) gave \(String(describing: error))")
    }

    @Test func theErrorSaysWhere() throws {
        let error = try #require(parsingError("*2\r\n:1\r\n?"))
        #expect(error.code == .unknownType)
        #expect(error.offset == 8)
        #expect(error.description.contains("unknown type byte"))
    }

    @Test func valuesBeforeAMalformedOneAreReturnedFirst() throws {
        var bytes = ByteBuffer(string: "+OK\r\n:1\r\n?bad\r\n")
        let parser = RESPParser()
        #expect(try parser.next(from: &bytes) == .simpleString("OK"))
        #expect(try parser.next(from: &bytes) == .integer(1))
        #expect(throws: RESPParsingError.self) { try parser.next(from: &bytes) }
    }

    @Test func nestingDeeperThanTheLimitThrows() {
        let parser = RESPParser(maximumDepth: 8)
        #expect(parsingError(String(repeating: "*1\r\n", count: 9) + ":1\r\n", parser: parser)?.code == .tooDeep)
        #expect(parsingError(String(repeating: "%1\r\n+k\r\n", count: 9) + ":1\r\n", parser: parser)?.code == .tooDeep)
        // Caught before the rest arrives.
        #expect(parsingError(String(repeating: "*1\r\n", count: 9), parser: parser)?.code == .tooDeep)
        // The default limit, against a hostile stream.
        #expect(parsingError(String(repeating: "*1\r\n", count: 100_000))?.code == .tooDeep)
        #expect(parsingError(String(repeating: ">1\r\n~1\r\n", count: 100))?.code == .tooDeep)
    }

    @Test func aLongRunOfAttributesDoesNotCrash() {
        // Attributes are dropped, not nested, but a stream of nothing else must not exhaust
        // the stack either: it either decodes or is rejected.
        let text = String(repeating: "|0\r\n", count: 200_000) + ":1\r\n"
        var bytes = ByteBuffer(string: text)
        do {
            let values = try decodeAll(&bytes)
            #expect(values == [.integer(1)])
        } catch {
            #expect(error.code == .tooDeep)
        }
    }

    @Test func oversizedValuesThrowBeforeTheyArrive() throws {
        let parser = RESPParser(maximumBulkLength: 10, maximumElements: 3)
        #expect(parsingError("$10\r\n0123456789\r\n", parser: parser) == nil)
        #expect(parsingError("$11\r\n", parser: parser)?.code == .tooLarge)
        #expect(parsingError("!11\r\n", parser: parser)?.code == .tooLarge)
        #expect(parsingError("=11\r\n", parser: parser)?.code == .tooLarge)
        #expect(parsingError("$536870913\r\n")?.code == .tooLarge)
        #expect(parsingError("*3\r\n:1\r\n:2\r\n:3\r\n", parser: parser) == nil)
        #expect(parsingError("*4\r\n", parser: parser)?.code == .tooLarge)
        #expect(parsingError("%4\r\n", parser: parser)?.code == .tooLarge)
        #expect(parsingError("~4\r\n", parser: parser)?.code == .tooLarge)
        #expect(parsingError(">4\r\n", parser: parser)?.code == .tooLarge)
        // A huge count with few elements present is only incomplete, and allocates nothing up front.
        var huge = ByteBuffer(string: "*16000000\r\n:1\r\n")
        #expect(try RESPParser().next(from: &huge) == nil)
    }

    // MARK: - Fuzz

    @Test func randomBytesNeverCrashTheParser() {
        var generator = SplitMix64(seed: 0xF022_2024)
        let alphabet = Array("+-:$_,#(!=*%~>|\r\n0123456789-tfinaxyz".utf8)
        let parser = RESPParser(maximumDepth: 16, maximumBulkLength: 1024, maximumElements: 64)
        var outcomes = (values: 0, incomplete: 0, errors: 0)
        for _ in 0..<5_000 {
            let length = Int.random(in: 0...48, using: &generator)
            let bytes: [UInt8] = (0..<length).map { _ in
                Bool.random(using: &generator) ? alphabet.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
            }
            var input = buffer(bytes)
            outcomes = Self.consume(&input, parser: parser, outcomes: outcomes)
        }
        // The loop checks no particular outcome, but all three should have been seen.
        #expect(outcomes.values > 0)
        #expect(outcomes.incomplete > 0)
        #expect(outcomes.errors > 0)
    }

    @Test func mutatedRepliesNeverCrashTheParser() {
        var generator = SplitMix64(seed: 0xBADC_0DE5)
        let whole = Array(Self.stream.bytes.readableBytesView)
        let parser = RESPParser()
        for _ in 0..<5_000 {
            var bytes = whole
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &generator)
                case 1: bytes.remove(at: index)
                default: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: index)
                }
            }
            bytes.removeLast(Int.random(in: 0..<bytes.count, using: &generator))
            var input = buffer(bytes)
            _ = Self.consume(&input, parser: parser, outcomes: (0, 0, 0))
        }
    }

    /// Reads values until the input is exhausted, incomplete or rejected, checking that each
    /// outcome leaves the buffer as promised.
    static func consume(
        _ input: inout ByteBuffer, parser: RESPParser, outcomes: (values: Int, incomplete: Int, errors: Int)
    ) -> (values: Int, incomplete: Int, errors: Int) {
        var outcomes = outcomes
        while true {
            let before = input
            do {
                if try parser.next(from: &input) != nil {
                    outcomes.values += 1
                    #expect(input.readerIndex > before.readerIndex, "a value consumes bytes")
                } else {
                    outcomes.incomplete += 1
                    #expect(input == before, "nothing consumed while incomplete")
                    return outcomes
                }
            } catch {
                outcomes.errors += 1
                #expect(error.offset >= 0)
                return outcomes
            }
        }
    }
}
