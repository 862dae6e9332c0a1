/// The prompt of a grounded answer: the retrieved chunks as numbered sources, and the
/// question, with the instruction to answer from the sources only and cite them as `[n]`.
///
/// ```text
/// system: Answer the question using only the numbered sources below. …
/// user:   Sources:
///
///         [1] handbook.pdf
///         …the chunk's text…
///
///         [2] faq.md
///         …
///
///         Question: How many days of leave do I get?
/// ```
package enum GroundedPrompt {
    /// One numbered source: a chunk, and the name of the file it comes from.
    package struct Source: Sendable, Hashable {
        /// Its number in the prompt, from 1; the answer cites it as `[index]`.
        package var index: Int
        package var filename: String
        package var text: String

        package init(index: Int, filename: String, text: String) {
            self.index = index
            self.filename = filename
            self.text = text
        }
    }

    package static let system = """
        Answer the question using only the numbered sources below. After each statement, cite \
        the sources it comes from by their numbers in square brackets, like [1] or [2][3]. If \
        the sources do not answer the question, say so instead of guessing.
        """

    /// The user message: the sources, numbered, then the question.
    package static func user(question: String, sources: [Source]) -> String {
        var text = "Sources:\n\n"
        if sources.isEmpty { text += "(none found)\n\n" }
        for source in sources {
            text += "[\(source.index)] \(source.filename)\n\(source.text)\n\n"
        }
        return text + "Question: \(question)"
    }
}
