import Foundation
import Hummingbird
import NIOCore

/// JSON in and out of request and response bodies.
enum JSONBody {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder.encode(value)
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    /// Reads the body (refusing more than `limit` bytes with a 413) and decodes it, with a
    /// message naming the field at fault when it does not fit `T`. A body over
    /// ``offLoopSize`` is decoded off the connection's event loop.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        let buffer = try await collect(request, limit: limit)
        guard buffer.readableBytes > offLoopSize else { return try decode(T.self, from: buffer) }
        return try await offLoop { try decode(T.self, from: buffer) }
    }

    /// The body size from which decoding takes long enough (a millisecond or so) to step
    /// off the event loop for it.
    static let offLoopSize = 256 * 1024

    private static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw APIError(Self.status(of: error), Self.describe(error))
        }
    }

    /// Reads a request's whole body, refusing an empty one and more than `limit` bytes (413).
    static func collect(_ request: Request, limit: Int) async throws -> ByteBuffer {
        let buffer = try await bytes(
            of: request, limit: limit, tooLarge: "request body is larger than the limit of \(limit) bytes (\(Setting.maxBodySize.named))"
        )
        guard buffer.readableBytes > 0 else {
            throw APIError(.badRequest, "request body is empty; expected a JSON object")
        }
        return buffer
    }

    /// Reads a request's whole body, stopping at `limit` bytes with a 413 that says `tooLarge`.
    static func bytes(of request: Request, limit: Int, tooLarge: @autoclosure () -> String) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, tooLarge())
        }
    }

    static func status(of error: DecodingError) -> HTTPResponse.Status {
        if case .dataCorrupted(let context) = error, context.codingPath.isEmpty { return .badRequest }
        return .unprocessableContent
    }

    /// A one-line account of a decoding error: where, and what was expected.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            var text = ""
            for key in keys {
                if let index = key.intValue { text += "[\(index)]" } else { text += text.isEmpty ? key.stringValue : ".\(key.stringValue)" }
            }
            return text.isEmpty ? "body" : text
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(describe(type)); \(context.debugDescription)"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(describe(type)), found null"
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): required field is missing"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "request body is not valid JSON" }
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "request body does not have the expected shape"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default:
            if "\(type)".hasPrefix("Array") { "a list" } else if "\(type)".hasPrefix("Dictionary") { "an object" } else { "\(type)" }
        }
    }
}
