import PromptlineCore

/// The prompts of a summary, owned here and described in `docs/summaries.md`: a system
/// message that carries the caller's instructions, then one user message per call.
enum SummaryPrompts {
    static func system(instructions: String?) -> ChatMessage {
        var text = "You write faithful, concise summaries. Keep names, numbers and conclusions; add nothing that is not in the text."
        if let instructions, !instructions.isEmpty {
            text += "\n\nInstructions: \(instructions)"
        }
        return ChatMessage(role: "system", content: text)
    }

    /// A chunk of a document (the map step).
    static func chunk(_ text: String, of document: String, part: Int, of parts: Int) -> ChatMessage {
        ChatMessage(role: "user", content: "Summarise part \(part) of \(parts) of the document \"\(document)\":\n\n\(text)")
    }

    /// Partial summaries of one document, combined into one (a collapse or the document's last step).
    static func combine(_ partials: [String], of document: String) -> ChatMessage {
        let numbered = partials.enumerated().map { "[\($0.offset + 1)] \($0.element)" }.joined(separator: "\n\n")
        return ChatMessage(role: "user", content: "Combine these partial summaries of the document \"\(document)\" into one summary:\n\n\(numbered)")
    }

    /// The documents' summaries, combined into the summary of them all.
    static func combineDocuments(_ summaries: [(name: String, summary: String)]) -> ChatMessage {
        let listed = summaries.map { "[\($0.name)] \($0.summary)" }.joined(separator: "\n\n")
        return ChatMessage(role: "user", content: "Combine these summaries of several documents into one summary:\n\n\(listed)")
    }
}
