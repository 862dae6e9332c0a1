import NIOCore
import PromptlineCore
@testable import PromptlineServer
import Testing

/// What `POST /v1/embeddings` accepts before anything goes upstream, and what it counts.
@Suite struct EmbeddingsBodyTests {
    static let policy = SubmitPolicy(defaultModel: "m", defaultMaxTokens: 50, defaultTemperature: 0.7, maxPromptLength: 10)

    static func body(_ json: String) throws -> [String: JSONValue] {
        try ChatController.embeddingsBody(ByteBuffer(string: json))
    }

    @Test(arguments: [
        #"{"model":"m","input":"a text"}"#,
        #"{"model":"m","input":["a","b"],"encoding_format":"base64","dimensions":16}"#,
        #"{"model":"m","input":[1,2,3],"encoding_format":"float"}"#,
        #"{"model":"m","input":[[1,2],[3]]}"#,
    ])
    func acceptsTextsAndTokens(json: String) throws {
        _ = try Self.body(json)
    }

    @Test(arguments: [
        #"[]"#,
        #"{"input":"x"}"#,
        #"{"model":"","input":"x"}"#,
        #"{"model":"m"}"#,
        #"{"model":"m","input":""}"#,
        #"{"model":"m","input":[]}"#,
        #"{"model":"m","input":["a",""]}"#,
        #"{"model":"m","input":["a",1]}"#,
        #"{"model":"m","input":[[]]}"#,
        #"{"model":"m","input":{"text":"x"}}"#,
        #"{"model":"m","input":"x","encoding_format":"int8"}"#,
        #"{"model":"m","input":"x","dimensions":0}"#,
        #"{"model":"m","input":"x","dimensions":"8"}"#,
    ])
    func refusesWhatNoUpstreamCouldEmbed(json: String) {
        #expect(throws: APIError.self) { try Self.body(json) }
    }

    @Test func countsTokensPerInputAndChecksEachInputsLength() throws {
        #expect(try ChatController.embeddingTokens(of: Self.body(#"{"model":"m","input":"12345678"}"#), policy: Self.policy) == 2)
        #expect(try ChatController.embeddingTokens(of: Self.body(#"{"model":"m","input":["1234","12345678"]}"#), policy: Self.policy) == 3)
        #expect(try ChatController.embeddingTokens(of: Self.body(#"{"model":"m","input":[1,2,3]}"#), policy: Self.policy) == 3)
        #expect(try ChatController.embeddingTokens(of: Self.body(#"{"model":"m","input":[[1,2],[3]]}"#), policy: Self.policy) == 3)
        // Ten characters each is within the limit; eleven in one input is not.
        #expect(try ChatController.embeddingTokens(of: Self.body(#"{"model":"m","input":["0123456789","0123456789"]}"#), policy: Self.policy) == 6)
        #expect(throws: APIError.self) {
            try ChatController.embeddingTokens(of: Self.body(#"{"model":"m","input":["a","0123456789x"]}"#), policy: Self.policy)
        }
    }
}
