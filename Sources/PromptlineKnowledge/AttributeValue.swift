/// The value of one of a vector store file's attributes, as OpenAI allows them: a string,
/// a number or a boolean.
package enum AttributeValue: Sendable, Hashable, Codable {
    case string(String)
    case number(Double)
    case bool(Bool)

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "a string, a number or a boolean")
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        }
    }

    /// The order of two values of the same kind; `nil` for values of different kinds.
    static func compare(_ a: AttributeValue, _ b: AttributeValue) -> Int? {
        switch (a, b) {
        case (.number(let x), .number(let y)): x < y ? -1 : (x == y ? 0 : 1)
        case (.string(let x), .string(let y)): x < y ? -1 : (x == y ? 0 : 1)
        case (.bool(let x), .bool(let y)): x == y ? 0 : (x ? 1 : -1)
        default: nil
        }
    }
}
