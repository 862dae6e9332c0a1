import Foundation

/// How a store keeps a task's messages and metadata: the common single user prompt as is,
/// anything else as JSON. Every store uses this one form.
public enum StoredRequest {
    /// The prompt of a request that is one user message; `nil` otherwise.
    public static func prompt(of request: ChatRequest) -> String? {
        request.messages.count == 1 && request.messages[0].role == "user" ? request.messages[0].content : nil
    }

    /// The messages as JSON, for a request that is not a single user prompt; `nil` otherwise.
    public static func messagesJSON(of request: ChatRequest) throws -> String? {
        prompt(of: request) == nil ? String(decoding: try JSONEncoder().encode(request.messages), as: UTF8.self) : nil
    }

    /// The messages back from a stored prompt or JSON.
    public static func messages(prompt: String?, json: String?) throws -> [ChatMessage] {
        if let prompt { return [ChatMessage(role: "user", content: prompt)] }
        return try JSONDecoder().decode([ChatMessage].self, from: Data((json ?? "[]").utf8))
    }

    /// Metadata as JSON; `nil` when there is none.
    public static func metadataJSON(_ metadata: [String: String]) throws -> String? {
        metadata.isEmpty ? nil : String(decoding: try JSONEncoder().encode(metadata), as: UTF8.self)
    }

    public static func metadata(json: String?) throws -> [String: String] {
        guard let json else { return [:] }
        return try JSONDecoder().decode([String: String].self, from: Data(json.utf8))
    }
}

/// The store cannot be reached for now (its server is down or restarting). Nothing was
/// changed; the caller may try again after ``retryAfter``.
public struct StoreUnavailableError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var retryAfter: Duration

    public init(_ message: String, retryAfter: Duration = .seconds(1)) {
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { message }
}
