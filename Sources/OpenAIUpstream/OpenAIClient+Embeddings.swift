import Foundation
import NIOCore
import PromptlineCore

extension OpenAIClient: EmbeddingBackend {
    /// `POST /embeddings` with every input in one call, asking for base64 (float32, little
    /// endian): a quarter of the bytes of decimal floats, and read without parsing numbers.
    package func embed(_ inputs: [String], model: String) async throws -> Embeddings {
        let body: JSONValue = .object([
            "model": .string(model), "input": .array(inputs.map(JSONValue.string)), "encoding_format": .string("base64"),
        ])
        let start = ContinuousClock.now
        do {
            let response = try await send(
                .POST, path: "/embeddings", streaming: false, body: ByteBuffer(bytes: body.canonicalBytes), timeout: configuration.timeout
            )
            let bytes: ByteBuffer
            do {
                bytes = try await response.body.collect(upTo: Self.maximumAnswerBytes)
            } catch is NIOTooManyBytesError {
                throw Self.tooLarge(endpoint: endpoint, limit: Self.maximumAnswerBytes)
            } catch {
                throw Task.isCancelled ? CancellationError() : UpstreamError.transport(error, endpoint: endpoint)
            }
            guard (200..<300).contains(response.head.status.code) else {
                throw UpstreamError.httpStatus(
                    Int(response.head.status.code), reason: response.head.status.reasonPhrase, headers: response.head.headers, body: bytes
                )
            }
            let embeddings = try Self.embeddings(in: Data(bytes.readableBytesView), count: inputs.count)
            metrics.call(since: start, failure: nil)
            return embeddings
        } catch let error as UpstreamError {
            let error = error.redacting(configuration.apiKey)
            metrics.call(since: start, failure: error)
            throw error
        }
    }

    /// The vectors of an embeddings answer, by their `index`; floats or base64 alike.
    static func embeddings(in data: Data, count: Int) throws -> Embeddings {
        guard let answer = try? JSONDecoder().decode(EmbeddingsAnswer.self, from: data) else {
            if let failure = try? JSONDecoder().decode(OpenAIErrorResponse.self, from: data) {
                throw UpstreamError.embedded(failure.error)
            }
            let text = UpstreamError.snippet(String(decoding: data, as: UTF8.self), limit: 120)
            throw UpstreamError(.invalidResponse, message: "answer is not a list of embeddings: \(text.isEmpty ? "empty body" : text)")
        }
        var vectors = [[Float]?](repeating: nil, count: count)
        for (position, item) in answer.data.enumerated() {
            let index = item.index ?? position
            guard vectors.indices.contains(index), vectors[index] == nil else {
                throw UpstreamError(.invalidResponse, message: "embeddings answer: index \(index) is out of place for \(count) inputs")
            }
            vectors[index] = try item.embedding.vector()
        }
        guard let all = vectors as? [[Float]] else {
            throw UpstreamError(.invalidResponse, message: "embeddings answer: \(vectors.count { $0 == nil }) of \(count) inputs have no vector")
        }
        return Embeddings(vectors: all, promptTokens: answer.usage?.promptTokens)
    }
}

/// The parts of an embeddings answer Promptline reads.
private struct EmbeddingsAnswer: Decodable {
    struct Item: Decodable {
        var index: Int?
        var embedding: Vector
    }

    enum Vector: Decodable {
        case floats([Float])
        case base64(String)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .base64(text)
            } else {
                self = .floats(try container.decode([Float].self))
            }
        }

        func vector() throws -> [Float] {
            switch self {
            case .floats(let floats):
                return floats
            case .base64(let text):
                guard let data = Data(base64Encoded: text), data.count % 4 == 0 else {
                    throw UpstreamError(.invalidResponse, message: "embeddings answer: an embedding is not base64 float32")
                }
                return data.withUnsafeBytes { raw in
                    (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
                }
            }
        }
    }

    struct Usage: Decodable {
        var promptTokens: Int?
        enum CodingKeys: String, CodingKey { case promptTokens = "prompt_tokens" }
    }

    var data: [Item]
    var usage: Usage?
}
