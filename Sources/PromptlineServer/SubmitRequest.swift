import Foundation
import PromptlineCore

/// The body of `POST /api/tasks`: prompts, and options for all of them.
struct SubmitRequest: Decodable, Sendable {
    var prompts: [PromptInput]?
    var model: String?
    var maxTokens: Int?
    var temperature: Double?
    var priority: Int?
    var idempotencyKey: String?
    var webhookURL: String?
    var metadata: [String: String]?
    /// `false`: answer every prompt with an upstream call of its own, never from the cache.
    var cache: Bool?

    enum CodingKeys: String, CodingKey {
        case prompts, model, temperature, priority, metadata, cache
        case maxTokens = "max_tokens"
        case idempotencyKey = "idempotency_key"
        case webhookURL = "webhook_url"
    }
}

/// One entry of `prompts`: a string, or an object with `prompt` or `messages` and its own options.
struct PromptInput: Decodable, Sendable {
    var prompt: String?
    var messages: [ChatMessage]?
    var model: String?
    var maxTokens: Int?
    var temperature: Double?
    var priority: Int?
    var metadata: [String: String]?
    var cache: Bool?
    /// Answer from these vector stores, citing them (a grounded question).
    var vectorStoreIDs: [String]?

    enum CodingKeys: String, CodingKey {
        case prompt, messages, model, temperature, priority, metadata, cache
        case maxTokens = "max_tokens"
        case vectorStoreIDs = "vector_store_ids"
    }

    init(from decoder: any Decoder) throws {
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            prompt = text
            return
        }
        let container: KeyedDecodingContainer<CodingKeys>
        do {
            container = try decoder.container(keyedBy: CodingKeys.self)
        } catch {
            throw DecodingError.typeMismatch(PromptInput.self, .init(
                codingPath: decoder.codingPath,
                debugDescription: "each prompt is a string or an object with \"prompt\" or \"messages\""))
        }
        prompt = try container.decodeIfPresent(String.self, forKey: .prompt)
        messages = try container.decodeIfPresent([ChatMessage].self, forKey: .messages)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        maxTokens = try container.decodeIfPresent(Int.self, forKey: .maxTokens)
        temperature = try container.decodeIfPresent(Double.self, forKey: .temperature)
        priority = try container.decodeIfPresent(Int.self, forKey: .priority)
        metadata = try container.decodeIfPresent([String: String].self, forKey: .metadata)
        cache = try container.decodeIfPresent(Bool.self, forKey: .cache)
        vectorStoreIDs = try container.decodeIfPresent([String].self, forKey: .vectorStoreIDs)
    }
}

/// Limits a submission is checked against, and the defaults it is completed with.
struct SubmitPolicy: Sendable {
    var defaultModel: String
    var defaultMaxTokens: Int
    var defaultTemperature: Double
    var maxPromptsPerBatch = 50_000
    var maxTokensCeiling = 1_000_000
    /// The most characters in one prompt, its messages together.
    var maxPromptLength = 1_000_000
    var maxMetadataEntries = 16
    var maxMetadataValueLength = 512
    var maxIdempotencyKeyLength = 256
    /// Whether each API key has cache entries of its own (`--cache-scope key`).
    var cacheByKey = true

    /// The scope of the cache entries `owner`'s requests may use: its own, or everyone's.
    func cacheScope(of owner: String?) -> String? {
        cacheByKey ? owner : nil
    }

    /// Checks a submission and turns it into tasks. Throws an ``APIError`` naming the first
    /// problem; nothing is stored when it throws.
    func tasks(from body: SubmitRequest) throws -> [NewTask] {
        guard let prompts = body.prompts, !prompts.isEmpty else {
            throw APIError(.badRequest, "prompts must be a non-empty list")
        }
        guard prompts.count <= maxPromptsPerBatch else {
            throw APIError(.contentTooLarge, "a submission holds at most \(maxPromptsPerBatch) prompts and this one has \(prompts.count): split it, or raise the limit with \(Setting.maxPrompts.named)")
        }
        if let key = body.idempotencyKey, key.isEmpty || key.count > maxIdempotencyKeyLength {
            throw APIError(.unprocessableContent, "idempotency_key must be 1 to \(maxIdempotencyKeyLength) characters")
        }
        if let url = body.webhookURL, URL(string: url)?.scheme.map({ ["http", "https"].contains($0) }) != true {
            throw APIError(.unprocessableContent, "webhook_url must be an http or https URL")
        }
        try check(body.model, body.maxTokens, body.temperature, body.metadata, at: "")
        return try prompts.enumerated().map { index, input in
            let at = "prompts[\(index)]"
            try check(input.model, input.maxTokens, input.temperature, input.metadata, at: at + ".")
            let messages: [ChatMessage]
            switch (input.prompt, input.messages) {
            case (let prompt?, nil):
                guard !prompt.isEmpty else { throw APIError(.unprocessableContent, "\(at) is empty") }
                messages = [ChatMessage(role: "user", content: prompt)]
            case (nil, let list?):
                guard !list.isEmpty else { throw APIError(.unprocessableContent, "\(at).messages must not be empty") }
                for (m, message) in list.enumerated() where !Self.roles.contains(message.role) {
                    throw APIError(.unprocessableContent, "\(at).messages[\(m)].role must be one of \(Self.roles.sorted().joined(separator: ", "))")
                }
                messages = list
            case (nil, nil):
                throw APIError(.unprocessableContent, "\(at) needs \"prompt\" or \"messages\"")
            case (_?, _?):
                throw APIError(.unprocessableContent, "\(at) has both \"prompt\" and \"messages\"; give one")
            }
            let length = messages.reduce(0) { $0 + $1.content.count }
            guard length <= maxPromptLength else {
                throw APIError(.contentTooLarge, "\(at) has \(length) characters, more than the \(maxPromptLength) a prompt may have: shorten it, or raise the limit with \(Setting.maxPromptLength.named)")
            }
            let model = input.model ?? body.model ?? defaultModel
            var request = ChatRequest(
                model: model,
                messages: messages,
                maxTokens: input.maxTokens ?? body.maxTokens ?? defaultMaxTokens,
                temperature: input.temperature ?? body.temperature ?? defaultTemperature,
                cacheable: input.cache ?? body.cache ?? true
            )
            if let ids = input.vectorStoreIDs {
                guard !ids.isEmpty, ids.count <= 10 else { throw APIError(.unprocessableContent, "\(at).vector_store_ids: from 1 to 10 vector stores") }
                request.grounding = Grounding(vectorStoreIDs: ids, maxResults: AnswerService.defaultMaxResults)
            }
            let metadata = (body.metadata ?? [:]).merging(input.metadata ?? [:]) { _, own in own }
            return NewTask(request: request, priority: input.priority ?? body.priority ?? 0, metadata: metadata)
        }
    }

    static let roles = ChatMessage.roles

    private func check(_ model: String?, _ maxTokens: Int?, _ temperature: Double?, _ metadata: [String: String]?, at prefix: String) throws {
        if let model, model.isEmpty || model.count > 256 {
            throw APIError(.unprocessableContent, "\(prefix)model must be 1 to 256 characters")
        }
        if let maxTokens, maxTokens < 1 {
            throw APIError(.unprocessableContent, "\(prefix)max_tokens must be at least 1")
        }
        if let maxTokens, maxTokens > maxTokensCeiling {
            throw APIError(.unprocessableContent, "\(prefix)max_tokens is \(maxTokens), over this server's ceiling of \(maxTokensCeiling): lower it, or raise the ceiling with \(Setting.maxTokensLimit.named)")
        }
        if let temperature, !(0...2).contains(temperature) {
            throw APIError(.unprocessableContent, "\(prefix)temperature must be between 0 and 2")
        }
        if let metadata {
            guard metadata.count <= maxMetadataEntries else {
                throw APIError(.unprocessableContent, "\(prefix)metadata holds at most \(maxMetadataEntries) entries")
            }
            for (key, value) in metadata where key.count > 64 || value.count > maxMetadataValueLength {
                throw APIError(.unprocessableContent, "\(prefix)metadata: keys are at most 64 characters and values at most \(maxMetadataValueLength)")
            }
        }
    }
}

extension SubmitPolicy {
    init(_ settings: ServerSettings) {
        self.init(defaultModel: settings.model, defaultMaxTokens: settings.maxTokens, defaultTemperature: settings.temperature)
        maxPromptsPerBatch = settings.maxPrompts
        maxPromptLength = settings.maxPromptLength
        maxTokensCeiling = settings.maxTokensLimit
        cacheByKey = settings.cacheScope == .key
    }
}
