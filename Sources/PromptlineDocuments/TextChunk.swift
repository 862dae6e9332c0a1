/// One piece of a text cut by ``TextChunker``.
package struct TextChunk: Sendable, Hashable {
    /// Its place among the chunks of its text, from 0.
    package var index: Int
    /// The piece itself, without leading or trailing whitespace; never empty.
    package var text: String
    /// Where ``text`` is in the source text, counted in characters (`Character`, what
    /// `String.count` counts) from its start.
    package var characterRange: Range<Int>

    package init(index: Int, text: String, characterRange: Range<Int>) {
        self.index = index
        self.text = text
        self.characterRange = characterRange
    }

    /// ``TextChunker/estimatedTokens(in:)`` of ``text``.
    package var estimatedTokens: Int { TextChunker.estimatedTokens(in: text) }
}
