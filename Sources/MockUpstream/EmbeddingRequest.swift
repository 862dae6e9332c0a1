/// The parts of an OpenAI embeddings request body that the mock reads; everything else is ignored.
struct EmbeddingRequest: MockRequestBody, Sendable {
    enum EncodingFormat: String, Decodable, Sendable {
        case float, base64
    }

    var model: String
    /// The texts to embed: `input` as a string, or each string of a list.
    var texts: [String]
    /// `input` was given as tokens (a list of integers, or of lists of them), which the mock
    /// cannot read back into words.
    var isTokens = false
    var dimensions: Int?
    var encodingFormat: EncodingFormat

    private enum CodingKeys: String, CodingKey {
        case model, input, dimensions
        case encodingFormat = "encoding_format"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(String.self, forKey: .model)
        guard container.contains(.input) else {
            throw DecodingError.keyNotFound(CodingKeys.input, .init(codingPath: [], debugDescription: "input is required"))
        }
        if let text = try? container.decode(String.self, forKey: .input) {
            texts = [text]
        } else if let list = try? container.decode([String].self, forKey: .input) {
            texts = list
        } else if (try? container.decode([Int].self, forKey: .input)) != nil
            || (try? container.decode([[Int]].self, forKey: .input)) != nil
        {
            texts = []
            isTokens = true
        } else {
            throw DecodingError.typeMismatch(
                String.self,
                .init(codingPath: [CodingKeys.input], debugDescription: "input: expected a string or a list of strings")
            )
        }
        dimensions = try container.decodeIfPresent(Int.self, forKey: .dimensions)
        encodingFormat = try container.decodeIfPresent(EncodingFormat.self, forKey: .encodingFormat) ?? .float
    }

    /// The texts as one string: the key of the call ledger and where a fault directive is read.
    var prompt: String {
        texts.count == 1 ? texts[0] : texts.joined(separator: "\n")
    }

    /// What is wrong with a request that decoded, or `nil` when it can be answered.
    var problem: String? {
        if isTokens {
            return "This mock embeds text only: send 'input' as a string or a list of strings, not as tokens."
        }
        if texts.isEmpty {
            return "'input' must contain at least one string."
        }
        if texts.contains(where: \.isEmpty) {
            return "'$.input' is invalid: an input string may not be empty."
        }
        if let dimensions, !(1...MockEmbedding.maximumDimensions).contains(dimensions) {
            return "Invalid 'dimensions': expected a value from 1 to \(MockEmbedding.maximumDimensions), but got \(dimensions) instead."
        }
        return nil
    }
}
