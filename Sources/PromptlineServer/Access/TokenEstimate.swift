import PromptlineCore

/// The tokens a request will use, guessed before it runs, for tokens-per-minute limits: a
/// token per 4 bytes of the messages, plus every token the answer may have (`max_tokens`).
/// It counts what is asked for, not what the upstream reports afterwards.
enum TokenEstimate {
    static func of(_ request: ChatRequest) -> Int {
        prompt(bytes: request.messages.reduce(0) { $0 + $1.content.utf8.count + $1.role.utf8.count }) + request.maxTokens
    }

    static func of(_ requests: [ChatRequest]) -> Int {
        requests.reduce(0) { $0 + of($1) }
    }

    static func prompt(bytes: Int) -> Int {
        (bytes + 3) / 4
    }
}
