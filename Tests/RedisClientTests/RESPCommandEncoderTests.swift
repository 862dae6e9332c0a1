import NIOCore
@testable import RedisClient
import Testing

@Suite struct RESPCommandEncoderTests {
    /// The encoder's bytes as text (every test here writes valid UTF-8 unless it says otherwise).
    func wire(_ body: (inout RESPCommandEncoder) -> Void) -> String {
        var encoder = RESPCommandEncoder()
        body(&encoder)
        return String(buffer: encoder.buffer)
    }

    /// The wire form of a command, built independently of the encoder.
    func expectedWire(_ words: [String]) -> String {
        "*\(words.count)\r\n" + words.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined()
    }

    @Test func exactBytesOfSmallCommands() {
        #expect(wire { $0.start("PING"); $0.finish() } == "*1\r\n$4\r\nPING\r\n")
        #expect(wire { $0.start("GET"); $0.append("key"); $0.finish() } == "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n")
        #expect(wire { $0.start("SET"); $0.append("k"); $0.append(""); $0.finish() } == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n")
    }

    /// Argument counts around the points where the header gains a digit.
    @Test(arguments: [0, 1, 8, 9, 10, 11, 98, 99, 100, 999, 1_000])
    func exactBytesForArgumentCount(_ count: Int) {
        let arguments = (0..<count).map { "arg\($0)" }
        let encoded = wire { encoder in
            encoder.start("CMD")
            encoder.append(contentsOf: arguments)
            encoder.finish()
        }
        #expect(encoded == expectedWire(["CMD"] + arguments))
        #expect(encoded.hasPrefix("*\(count + 1)\r\n$3\r\nCMD\r\n"))
    }

    @Test func binaryArguments() {
        let payload: [UInt8] = [0x00, 0x0D, 0x0A, 0xFF, 0xFE, 0x24, 0x2A, 0x0D, 0x0A, 0x00]
        var encoder = RESPCommandEncoder()
        encoder.start("SET")
        encoder.append("k")
        encoder.append(buffer(payload))
        encoder.finish()
        var expected = ByteBuffer(string: "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\n")
        expected.writeBytes(payload)
        expected.writeString("\r\n")
        #expect(encoder.buffer == expected)
    }

    @Test func aByteBufferArgumentIsWrittenFromItsReaderIndex() {
        var argument = ByteBuffer(string: "skipped-kept")
        argument.moveReaderIndex(forwardBy: 8)
        #expect(wire { $0.start("ECHO"); $0.append(argument); $0.finish() } == "*2\r\n$4\r\nECHO\r\n$4\r\nkept\r\n")
    }

    @Test func unicodeLengthsAreInBytes() {
        #expect(wire { $0.start("ECHO"); $0.append("héllo"); $0.finish() } == "*2\r\n$4\r\nECHO\r\n$6\r\nhéllo\r\n")
        #expect(wire { $0.start("ECHO"); $0.append("🙂"); $0.finish() } == "*2\r\n$4\r\nECHO\r\n$4\r\n🙂\r\n")
        // One character, two scalars, three bytes.
        #expect(wire { $0.start("ECHO"); $0.append("e\u{301}"); $0.finish() } == "*2\r\n$4\r\nECHO\r\n$3\r\ne\u{301}\r\n")
        #expect(wire { $0.start("ÉCHO"); $0.finish() } == "*1\r\n$5\r\nÉCHO\r\n")
    }

    @Test func numbers() {
        #expect(wire { $0.start("X"); $0.append(Int(-42)); $0.append(UInt8(7)); $0.append(Int64.min); $0.finish() }
            == expectedWire(["X", "-42", "7", "-9223372036854775808"]))
        #expect(wire { $0.start("X"); $0.append(1.5); $0.append(-0.25); $0.append(Double.infinity); $0.append(-Double.infinity); $0.finish() }
            == expectedWire(["X", "1.5", "-0.25", "+inf", "-inf"]))
    }

    @Test func twoCommandsInOneEncoder() {
        var encoder = RESPCommandEncoder()
        encoder.start("SET")
        encoder.append("a")
        encoder.append("1")
        encoder.finish()
        encoder.start("GET")
        encoder.append("a")
        encoder.finish()
        #expect(encoder.commandCount == 2)
        #expect(String(buffer: encoder.buffer) == "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n")
    }

    @Test func manyCommandsWithGrowingHeadersInOneEncoder() {
        var encoder = RESPCommandEncoder(capacity: 1)
        var expected = ""
        for count in [0, 9, 10, 1_000, 1, 99, 100] {
            let arguments = (0..<count).map { String(repeating: "x", count: $0 % 7) }
            encoder.start("C\(count)")
            encoder.append(contentsOf: arguments)
            encoder.finish()
            expected += expectedWire(["C\(count)"] + arguments)
        }
        #expect(encoder.commandCount == 7)
        #expect(String(buffer: encoder.buffer) == expected)
    }

    @Test func aLargeArgumentInASmallBuffer() {
        let big = String(repeating: "0123456789", count: 20_000)
        var encoder = RESPCommandEncoder(capacity: 1)
        encoder.start("SET")
        encoder.append("k")
        encoder.append(big)
        encoder.finish()
        #expect(String(buffer: encoder.buffer) == expectedWire(["SET", "k", big]))
    }

    @Test func roundTripThroughTheParser() throws {
        var generator = SplitMix64(seed: 42)
        var encoder = RESPCommandEncoder()
        var commands: [RESPValue] = []
        for _ in 0..<50 {
            let name = "CMD\(UInt8.random(in: 0...255, using: &generator))"
            let arguments = (0..<Int.random(in: 0...12, using: &generator)).map { _ in
                buffer((0..<Int.random(in: 0...20, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
            }
            encoder.start(name)
            for argument in arguments { encoder.append(argument) }
            encoder.finish()
            commands.append(.array([bulk(name)] + arguments.map { .bulkString($0) }))
        }
        var bytes = encoder.buffer
        #expect(try decodeAll(&bytes) == commands)
        #expect(bytes.readableBytes == 0)
    }

    // MARK: - Typed commands

    func encoded(_ command: some RedisCommand) -> String {
        var encoder = RESPCommandEncoder()
        command.encode(into: &encoder)
        #expect(encoder.commandCount == 1)
        return String(buffer: encoder.buffer)
    }

    @Test func typedCommands() {
        #expect(encoded(PING()) == expectedWire(["PING"]))
        #expect(encoded(RawCommand("CLIENT", "PAUSE", "1000")) == expectedWire(["CLIENT", "PAUSE", "1000"]))
        #expect(encoded(GET("k")) == expectedWire(["GET", "k"]))
        #expect(encoded(SET("k", "v")) == expectedWire(["SET", "k", "v"]))
        #expect(encoded(SET("k", "v", expiry: .milliseconds(1500))) == expectedWire(["SET", "k", "v", "PX", "1500"]))
        // Expiries round up to whole milliseconds, and are never zero.
        #expect(encoded(SET("k", "v", expiry: .microseconds(1))) == expectedWire(["SET", "k", "v", "PX", "1"]))
        #expect(encoded(SET("k", "v", expiry: .zero)) == expectedWire(["SET", "k", "v", "PX", "1"]))
        #expect(encoded(PEXPIRE("k", .microseconds(2_500))) == expectedWire(["PEXPIRE", "k", "3"]))
        #expect(encoded(DEL("a", "b")) == expectedWire(["DEL", "a", "b"]))
        #expect(encoded(ZADD("z", [(score: 1.5, member: "a"), (score: -2, member: "b")])) == expectedWire(["ZADD", "z", "1.5", "a", "-2.0", "b"]))
        #expect(encoded(ZREMRANGEBYSCORE("z", max: 10)) == expectedWire(["ZREMRANGEBYSCORE", "z", "-inf", "10.0"]))
        #expect(encoded(HELLO(protocolVersion: 3)) == expectedWire(["HELLO", "3"]))
        #expect(encoded(HELLO(protocolVersion: 3, password: "pw", clientName: "me")) == expectedWire(["HELLO", "3", "AUTH", "default", "pw", "SETNAME", "me"]))
        #expect(encoded(AUTH(username: "alice", password: "pw")) == expectedWire(["AUTH", "alice", "pw"]))
        #expect(encoded(AUTH(password: "pw")) == expectedWire(["AUTH", "pw"]))
        #expect(encoded(SELECT(3)) == expectedWire(["SELECT", "3"]))
        #expect(encoded(EVALSHA(sha: "abc", keys: ["k1", "k2"], arguments: ["s", 7, .double(0.5), .bytes(ByteBuffer(string: "b"))]))
            == expectedWire(["EVALSHA", "abc", "2", "k1", "k2", "s", "7", "0.5", "b"]))
    }
}
