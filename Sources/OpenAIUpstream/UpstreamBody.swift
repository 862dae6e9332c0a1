import NIOCore

/// The body of an upstream's answer: read whole before the answer was handed over, or
/// still arriving, in the pieces it arrives in. Reading a body that arrives to the end lets
/// its connection serve another call; dropping it half-read closes the connection.
package struct UpstreamBody: AsyncSequence, Sendable {
    package typealias Element = ByteBuffer

    enum Storage: Sendable {
        case whole(ByteBuffer)
        case arriving(AsyncThrowingStream<ByteBuffer, any Error>)
    }

    let storage: Storage

    package func makeAsyncIterator() -> AsyncIterator {
        switch storage {
        case .whole(let body): AsyncIterator(whole: body.readableBytes > 0 ? body : nil, arriving: nil)
        case .arriving(let stream): AsyncIterator(whole: nil, arriving: stream.makeAsyncIterator())
        }
    }

    package struct AsyncIterator: AsyncIteratorProtocol {
        var whole: ByteBuffer?
        var arriving: AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator?

        package mutating func next() async throws -> ByteBuffer? {
            if arriving != nil { return try await arriving!.next() }
            defer { whole = nil }
            return whole
        }
    }

    /// The whole body, refused when it is or grows past `limit` bytes.
    package func collect(upTo limit: Int) async throws -> ByteBuffer {
        if case .whole(let body) = storage {
            guard body.readableBytes <= limit else { throw NIOTooManyBytesError(maxBytes: limit) }
            return body
        }
        var whole = ByteBuffer()
        for try await var piece in self {
            guard whole.readableBytes + piece.readableBytes <= limit else { throw NIOTooManyBytesError(maxBytes: limit) }
            whole.writeBuffer(&piece)
        }
        return whole
    }
}
