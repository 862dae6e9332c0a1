import Foundation
import Testing

@testable import MockUpstream

@Suite("Embeddings")
struct MockEmbeddingTests {
    private func cosine(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
    }

    private func norm(_ vector: [Float]) -> Float {
        vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
    }

    @Test(arguments: [1, 2, 64, 384, 1_536])
    func hasTheDimensionAskedForAndLengthOne(dimensions: Int) {
        for text in ["a cat sat on the mat", "!!!", "Ünïcödé wörds 42", "x"] {
            let vector = MockEmbedding.vector(for: text, dimensions: dimensions)
            #expect(vector.count == dimensions)
            #expect(abs(norm(vector) - 1) < 1e-5, "\(text) in \(dimensions) dimensions")
        }
    }

    @Test func isDeterministicAndIgnoresCaseAndPunctuation() {
        let vector = MockEmbedding.vector(for: "The quick brown fox", dimensions: 384)
        #expect(vector == MockEmbedding.vector(for: "The quick brown fox", dimensions: 384))
        #expect(vector == MockEmbedding.vector(for: "the QUICK, brown fox!", dimensions: 384))
        #expect(vector != MockEmbedding.vector(for: "The quick brown dog", dimensions: 384))
    }

    @Test func textsThatShareWordsAreCloserThanUnrelatedOnes() {
        let query = MockEmbedding.vector(for: "how do I reset my password", dimensions: 384)
        let close = MockEmbedding.vector(for: "To reset your password, open settings", dimensions: 384)
        let closer = MockEmbedding.vector(for: "how do I reset my password quickly", dimensions: 384)
        let unrelated = MockEmbedding.vector(for: "The invoice lists three shipping costs", dimensions: 384)
        #expect(cosine(query, closer) > cosine(query, close))
        #expect(cosine(query, close) > cosine(query, unrelated) + 0.2)
        #expect(abs(cosine(query, unrelated)) < 0.3)
    }

    @Test func base64IsFloat32LittleEndian() throws {
        let vector = MockEmbedding.vector(for: "pack me", dimensions: 8)
        let data = try #require(Data(base64Encoded: MockEmbedding.base64(vector)))
        #expect(data.count == 32)
        let decoded = (0..<8).map { index in
            Float(bitPattern: data[(index * 4)..<(index * 4 + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) })
        }
        #expect(decoded == vector)
    }

    // MARK: On the wire

    private func embeddings(_ body: [String: Any], to server: MockUpstreamServer) throws -> RawHTTPResponse {
        let data = try JSONSerialization.data(withJSONObject: body)
        return try send("POST", "/v1/embeddings", body: String(decoding: data, as: UTF8.self), to: server)
    }

    private func vectors(_ response: RawHTTPResponse) throws -> [[Float]] {
        let data = try #require(response.json()["data"] as? [[String: Any]])
        return try data.map { item in
            if let encoded = item["embedding"] as? String {
                let bytes = try #require(Data(base64Encoded: encoded))
                return stride(from: 0, to: bytes.count, by: 4).map { offset in
                    Float(bitPattern: bytes[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) })
                }
            }
            return try #require(item["embedding"] as? [Any]).map { Float(try #require($0 as? NSNumber).doubleValue) }
        }
    }

    @Test func answersAListInOrderAsFloatsAndAsBase64() async throws {
        try await withMock { server in
            let texts = ["first text here", "second one"]
            let plain = try embeddings(["model": "mock-embed", "input": texts], to: server)
            #expect(plain.status == 200)
            let json = try plain.json()
            #expect(json["object"] as? String == "list")
            #expect(json["model"] as? String == "mock-embed")
            let usage = try #require(json["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == 5)
            #expect(usage["total_tokens"] as? Int == 5)
            let expected = texts.map { MockEmbedding.vector(for: $0, dimensions: MockEmbedding.defaultDimensions) }
            #expect(try vectors(plain) == expected)
            let packed = try embeddings(["model": "mock-embed", "input": texts, "encoding_format": "base64"], to: server)
            #expect(try vectors(packed) == expected)
            let one = try embeddings(["model": "mock-embed", "input": "first text here", "dimensions": 16], to: server)
            #expect(try vectors(one) == [MockEmbedding.vector(for: "first text here", dimensions: 16)])
        }
    }

    @Test(arguments: [
        #"{"model":"m","input":[1,2,3]}"#,
        #"{"model":"m","input":[[1,2],[3]]}"#,
        #"{"model":"m","input":""}"#,
        #"{"model":"m","input":[]}"#,
        #"{"model":"m","input":"x","dimensions":0}"#,
        #"{"model":"m","input":"x","encoding_format":"int8"}"#,
        #"{"input":"x"}"#,
        #"{"model":"m"}"#,
        #"{"model":"m","input":{"text":"x"}}"#,
    ])
    func refusesWhatItCannotEmbedInOpenAIsShape(body: String) async throws {
        try await withMock { server in
            let response = try send("POST", "/v1/embeddings", body: body, to: server)
            #expect(response.status == 400)
            let error = try errorObject(response)
            #expect(error["type"] as? String == "invalid_request_error")
            #expect((error["message"] as? String)?.isEmpty == false)
        }
    }

    @Test func obeysAFaultDirectiveInItsInput() async throws {
        try await withMock { server in
            let response = try embeddings(
                ["model": "m", "input": ["fine", "[[mock:status=429,retry_after_ms=1500]] slow down"]], to: server
            )
            #expect(response.status == 429)
            #expect(response.header("retry-after") == "2")
            #expect(try errorObject(response)["code"] as? String == "rate_limit_exceeded")
        }
    }
}
