/// A request body the mock answers: decoded from JSON, then checked.
protocol MockRequestBody: Decodable {
    /// What is wrong with a request that decoded, or `nil` when it can be answered.
    var problem: String? { get }
}

extension MockRequestBody {
    /// A readable message for a body that did not decode.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else {
            return "We could not parse the JSON body of your request."
        }
        func path(_ codingPath: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
            (codingPath + (last.map { [$0] } ?? [])).map { key in
                key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)"
            }.joined().drop(while: { $0 == "." }).description
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "'\(path(context.codingPath, key))' is a required property."
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "Invalid type for '\(path(context.codingPath))'."
        case .dataCorrupted(let context) where !context.codingPath.isEmpty:
            return "Invalid value for '\(path(context.codingPath))'."
        default:
            return "We could not parse the JSON body of your request: it is not valid JSON."
        }
    }
}
