import NIOCore

/// Writes commands in the form Redis reads them: an array of bulk strings.
///
/// A command encodes its arguments one by one with ``append(_:)``; ``finish()`` closes it.
/// Several commands may be written into one encoder, to be sent in one write (a pipeline).
package struct RESPCommandEncoder: Sendable {
    /// The bytes written so far.
    package private(set) var buffer: ByteBuffer
    private var commandStart: Int?
    private var argumentCount = 0
    /// How many commands have been finished.
    package private(set) var commandCount = 0

    /// Room left for the argument count of the command being written: `*` and up to
    /// ten digits, padded to a fixed width so that it can be filled in at the end.
    private static let headerWidth = 1 + 10 + 2

    package init(allocator: ByteBufferAllocator = ByteBufferAllocator(), capacity: Int = 256) {
        buffer = allocator.buffer(capacity: capacity)
    }

    /// Starts a command; its name is its first argument.
    package mutating func start(_ name: String) {
        precondition(commandStart == nil, "finish() the previous command first")
        commandStart = buffer.writerIndex
        argumentCount = 0
        buffer.writeRepeatingByte(0, count: Self.headerWidth)
        append(name)
    }

    package mutating func append(_ argument: String) {
        argumentCount += 1
        buffer.writeInteger(UInt8(ascii: "$"))
        buffer.writeString(String(argument.utf8.count))
        buffer.writeStaticString("\r\n")
        buffer.writeString(argument)
        buffer.writeStaticString("\r\n")
    }

    package mutating func append(_ argument: ByteBuffer) {
        argumentCount += 1
        buffer.writeInteger(UInt8(ascii: "$"))
        buffer.writeString(String(argument.readableBytes))
        buffer.writeStaticString("\r\n")
        buffer.writeImmutableBuffer(argument)
        buffer.writeStaticString("\r\n")
    }

    package mutating func append(_ argument: some BinaryInteger) {
        append(String(argument))
    }

    package mutating func append(_ argument: Double) {
        append(argument.isFinite ? String(argument) : (argument > 0 ? "+inf" : "-inf"))
    }

    package mutating func append(contentsOf arguments: some Sequence<String>) {
        for argument in arguments { append(argument) }
    }

    /// Ends the command: writes its array header in the room left at its start.
    ///
    /// The header is written right-aligned in a fixed-width slot; the leading bytes of the
    /// slot are then dropped by moving the remaining bytes, so the wire form is exact.
    package mutating func finish() {
        guard let start = commandStart else { preconditionFailure("start() a command first") }
        commandStart = nil
        commandCount += 1
        let header = "*\(argumentCount)\r\n"
        let headerLength = header.utf8.count
        let padding = Self.headerWidth - headerLength
        // Shift the arguments left over the padding, then write the header before them.
        let argumentsStart = start + Self.headerWidth
        let argumentsLength = buffer.writerIndex - argumentsStart
        let offset = start - buffer.readerIndex
        buffer.withUnsafeMutableReadableBytes { bytes in
            let base = bytes.baseAddress! + offset
            // Raw copyMemory is a memmove: the regions may overlap.
            (base + headerLength).copyMemory(from: base + Self.headerWidth, byteCount: argumentsLength)
            for (index, byte) in header.utf8.enumerated() {
                base.storeBytes(of: byte, toByteOffset: index, as: UInt8.self)
            }
        }
        buffer.moveWriterIndex(to: buffer.writerIndex - padding)
    }
}
