import Foundation

/// How a store keeps a task's request and metadata: the common single user prompt as is,
/// anything else as JSON. Every store uses this one form.
///
/// The JSON is the list of messages, or — when the request carries OpenAI parameters or
/// opts out of the cache — an object `{"messages": […], "parameters": {…}, "cache": false}`.
/// Model, `max_tokens` and temperature are kept by the store in fields of their own.
package enum StoredRequest {
    /// The prompt of a request that is one user message and nothing more; `nil` otherwise.
    package static func prompt(of request: ChatRequest) -> String? {
        guard request.messages.count == 1, request.messages[0].role == "user",
              request.parameters.isEmpty, request.cacheable, request.grounding == nil, request.cacheScope == nil
        else { return nil }
        return request.messages[0].content
    }

    /// The JSON a store keeps for a request that is not a bare prompt (its messages, and its
    /// parameters and cache opt-out when it has them); `nil` for a bare prompt.
    /// ``request(model:maxTokens:temperature:prompt:json:)`` reads it back.
    package static func json(of request: ChatRequest) throws -> String? {
        guard prompt(of: request) == nil else { return nil }
        let data: Data
        if request.parameters.isEmpty && request.cacheable && request.grounding == nil && request.cacheScope == nil {
            data = try JSONEncoder().encode(request.messages)
        } else {
            data = try JSONEncoder().encode(Extended(
                messages: request.messages,
                parameters: request.parameters.isEmpty ? nil : request.parameters,
                cache: request.cacheable ? nil : false,
                grounding: request.grounding,
                cacheScope: request.cacheScope
            ))
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The request back from its stored fields.
    package static func request(
        model: String, maxTokens: Int, temperature: Double, prompt: String?, json: String?
    ) throws -> ChatRequest {
        var request = ChatRequest(model: model, messages: [], maxTokens: maxTokens, temperature: temperature)
        if let prompt {
            request.messages = [ChatMessage(role: "user", content: prompt)]
        } else {
            let data = Data((json ?? "[]").utf8)
            if data.first == UInt8(ascii: "{") {
                let extended = try JSONDecoder().decode(Extended.self, from: data)
                request.messages = extended.messages
                request.parameters = extended.parameters ?? [:]
                request.cacheable = extended.cache ?? true
                request.grounding = extended.grounding
                request.cacheScope = extended.cacheScope
            } else {
                request.messages = try JSONDecoder().decode([ChatMessage].self, from: data)
            }
        }
        return request
    }

    private struct Extended: Codable {
        var messages: [ChatMessage]
        var parameters: [String: JSONValue]?
        var cache: Bool?
        var grounding: Grounding?
        var cacheScope: String?

        enum CodingKeys: String, CodingKey {
            case messages, parameters, cache, grounding
            case cacheScope = "cache_scope"
        }
    }

    /// Metadata as JSON; `nil` when there is none.
    package static func metadataJSON(_ metadata: [String: String]) throws -> String? {
        metadata.isEmpty ? nil : String(decoding: try JSONEncoder().encode(metadata), as: UTF8.self)
    }

    package static func metadata(json: String?) throws -> [String: String] {
        guard let json else { return [:] }
        return try JSONDecoder().decode([String: String].self, from: Data(json.utf8))
    }
}

/// The store cannot be reached for now (its server is down or restarting). Nothing was
/// changed; the caller may try again after ``retryAfter``.
package struct StoreUnavailableError: Error, Sendable, CustomStringConvertible {
    package var message: String
    package var retryAfter: Duration

    package init(_ message: String, retryAfter: Duration = .seconds(1)) {
        self.message = message
        self.retryAfter = retryAfter
    }

    package var description: String { message }
}
