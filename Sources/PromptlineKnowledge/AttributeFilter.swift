/// A search's `filters` on file attributes, as OpenAI's vector store search takes them: a
/// comparison `{"type": "eq", "key", "value"}` (eq, ne, gt, gte, lt, lte, in, nin) or a
/// compound `{"type": "and" | "or", "filters": [...]}`, nested as deep as one likes.
///
/// A file without the key passes only `ne` and `nin`; values of different kinds are never
/// equal and never ordered (`"3"` is not greater than `2`).
package indirect enum AttributeFilter: Sendable, Hashable {
    case comparison(key: String, comparison: Comparison, value: Operand)
    case and([AttributeFilter])
    case or([AttributeFilter])

    package enum Comparison: String, Sendable, Hashable, CaseIterable {
        case eq, ne, gt, gte, lt, lte, `in`, nin
    }

    /// What a comparison compares with: one value, or a list for `in` and `nin`.
    package enum Operand: Sendable, Hashable {
        case value(AttributeValue)
        case list([AttributeValue])
    }

    /// Whether a file with these attributes passes.
    package func matches(_ attributes: [String: AttributeValue]) -> Bool {
        switch self {
        case .and(let filters):
            return filters.allSatisfy { $0.matches(attributes) }
        case .or(let filters):
            return filters.contains { $0.matches(attributes) }
        case .comparison(let key, let comparison, let operand):
            guard let actual = attributes[key] else { return comparison == .ne || comparison == .nin }
            switch (comparison, operand) {
            case (.in, .list(let values)): return values.contains(actual)
            case (.nin, .list(let values)): return !values.contains(actual)
            case (.eq, .value(let value)): return actual == value
            case (.ne, .value(let value)): return actual != value
            case (_, .value(let value)):
                guard let order = AttributeValue.compare(actual, value) else { return false }
                switch comparison {
                case .gt: return order > 0
                case .gte: return order >= 0
                case .lt: return order < 0
                case .lte: return order <= 0
                default: return false
                }
            default:
                return false
            }
        }
    }
}

extension AttributeFilter: Decodable {
    private enum CodingKeys: String, CodingKey { case type, key, value, filters }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "and", "or":
            let filters = try container.decode([AttributeFilter].self, forKey: .filters)
            self = type == "and" ? .and(filters) : .or(filters)
        default:
            guard let comparison = Comparison(rawValue: type) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .type, in: container,
                    debugDescription: "\"\(type)\" is not a filter type (eq, ne, gt, gte, lt, lte, in, nin, and, or)"
                )
            }
            let key = try container.decode(String.self, forKey: .key)
            let operand: Operand
            if comparison == .in || comparison == .nin {
                operand = .list(try container.decode([AttributeValue].self, forKey: .value))
            } else {
                operand = .value(try container.decode(AttributeValue.self, forKey: .value))
            }
            self = .comparison(key: key, comparison: comparison, value: operand)
        }
    }
}
