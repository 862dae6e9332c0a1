/// The mock's answer to a chat request: `"echo: "` and the last user message, cut into tokens.
///
/// A token is a run of whitespace followed by a run of non-whitespace ("echo:", " hello", " world"),
/// so the tokens put together give back the content exactly.
struct ChatAnswer: Sendable {
    /// The UTF-8 bytes of the whole echo, before truncation.
    let bytes: [UInt8]
    /// The byte ranges of the tokens emitted (at most `max_tokens`).
    let tokens: [Range<Int>]
    let finishReason: String
    let promptTokens: Int

    var completionTokens: Int { tokens.count }

    /// The byte length of the content sent: the emitted tokens.
    var contentLength: Int { tokens.last?.upperBound ?? 0 }

    init(for request: ChatRequest) {
        var bytes = Array("echo: ".utf8)
        bytes.append(contentsOf: request.lastUserText.utf8)
        var tokens = Self.tokenRanges(of: bytes)
        if let maxTokens = request.maxTokens, tokens.count > maxTokens {
            tokens.removeLast(tokens.count - maxTokens)
            finishReason = "length"
        } else {
            finishReason = "stop"
        }
        self.bytes = bytes
        self.tokens = tokens
        promptTokens = request.messages.reduce(0) { total, message in
            message.texts.reduce(total) { $0 + Self.wordCount(of: $1) }
        }
    }

    static func tokenRanges(of bytes: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(16)
        var index = 0
        while index < bytes.count {
            let start = index
            while index < bytes.count, isWhitespace(bytes[index]) { index += 1 }
            while index < bytes.count, !isWhitespace(bytes[index]) { index += 1 }
            ranges.append(start..<index)
        }
        return ranges
    }

    static func wordCount(of text: String) -> Int {
        var count = 0
        var inWord = false
        for byte in text.utf8 {
            let isSpace = isWhitespace(byte)
            if !isSpace, !inWord { count += 1 }
            inWord = !isSpace
        }
        return count
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }
}
