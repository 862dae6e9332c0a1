/// Cuts text into chunks of about ``chunkTokens`` estimated tokens, on the best boundary it can.
///
/// Tokens are estimated from UTF-8 bytes (``estimatedTokens(in:)``: one token per 4 bytes),
/// which is about right for English and errs on the safe side for Korean, Chinese or Japanese,
/// whose characters take 3 bytes and often a token or more each.
///
/// A chunk ends on a paragraph boundary (a blank line or a page break) if one leaves it at
/// least half full, else on a sentence boundary (`.`, `!`, `?`, `…` before whitespace, or `。`,
/// `！`, `？`), else between words, else on the last boundary of any kind, and only in a text
/// with no whitespace at all, between two characters. A chunk is never longer than
/// ``chunkTokens`` (unless one character alone is), never empty, and never starts or ends
/// with whitespace. With ``overlapTokens``, each chunk after the first starts up to that many
/// tokens before the previous one ended, at a sentence or else a word start.
///
/// The same text and settings always give the same chunks.
package struct TextChunker: Sendable, Hashable {
    /// How many UTF-8 bytes one estimated token stands for.
    package static let bytesPerToken = 4

    /// The estimated token count of `text`: its UTF-8 bytes divided by ``bytesPerToken``,
    /// rounded up. The one estimate Promptline uses wherever it needs one.
    package static func estimatedTokens(in text: some StringProtocol) -> Int {
        (text.utf8.count + bytesPerToken - 1) / bytesPerToken
    }

    /// The most estimated tokens in one chunk.
    package let chunkTokens: Int
    /// How many estimated tokens at most a chunk repeats from the end of the one before it.
    package let overlapTokens: Int

    /// - Parameters:
    ///   - chunkTokens: the most estimated tokens in one chunk; at least 1.
    ///   - overlapTokens: at most half of `chunkTokens`; 0 for none.
    package init(chunkTokens: Int, overlapTokens: Int = 0) {
        self.chunkTokens = min(max(1, chunkTokens), Int.max / (8 * Self.bytesPerToken))
        self.overlapTokens = min(max(0, overlapTokens), self.chunkTokens / 2)
    }

    /// The chunks of `text`, in order; none for a text that is empty or only whitespace.
    package func chunks(of text: String) -> [TextChunk] {
        let scanner = Scanner(text: text, budget: chunkTokens * Self.bytesPerToken)
        let overlapBudget = overlapTokens * Self.bytesPerToken
        var chunks: [TextChunk] = []
        var start = scanner.skipWhitespace(from: Mark(index: text.startIndex, byte: 0, character: 0))
        var previousEnd: Mark?
        while start.index < text.endIndex {
            var (end, boundaries) = scanner.chunkEnd(from: start)
            if let previousEnd, end.byte <= previousEnd.byte {
                // The overlap left no room to go further: start where the last chunk ended instead.
                start = scanner.skipWhitespace(from: previousEnd)
                (end, boundaries) = scanner.chunkEnd(from: start)
            }
            chunks.append(TextChunk(
                index: chunks.count,
                text: String(text[start.index..<end.index]),
                characterRange: start.character..<end.character
            ))
            guard scanner.skipWhitespace(from: end).index < text.endIndex else { break }
            previousEnd = end
            start = overlapBudget > 0
                ? scanner.overlapStart(start: start, end: end, boundaries: boundaries, budget: overlapBudget)
                : scanner.skipWhitespace(from: end)
        }
        return chunks
    }

    /// A position in the text, with its offsets from the start in UTF-8 bytes and in characters.
    private struct Mark {
        var index: String.Index
        var byte: Int
        var character: Int
    }

    private enum Strength: Int, Comparable {
        case word, sentence, paragraph
        static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// A place a chunk may end (`end`, after the last visible character) and the next begin (`next`).
    private struct Boundary {
        var strength: Strength
        var end: Mark
        var next: Mark
    }

    private struct Scanner {
        let text: String
        let budget: Int

        static let sentenceEnds: Set<Character> = [".", "!", "?", "…", "‽", "。", "！", "？"]
        /// Sentence ends that need no space after them.
        static let closedSentenceEnds: Set<Character> = ["。", "！", "？"]
        /// What may follow a sentence end before the space: closing quotes and brackets.
        static let closers: Set<Character> = ["\"", "'", "”", "’", ")", "]", "}", "»", "」", "』", "）"]

        func advance(_ mark: Mark, over character: Character) -> Mark {
            Mark(index: text.index(after: mark.index), byte: mark.byte + character.utf8.count, character: mark.character + 1)
        }

        func skipWhitespace(from mark: Mark) -> Mark {
            var mark = mark
            while mark.index < text.endIndex, text[mark.index].isWhitespace {
                mark = advance(mark, over: text[mark.index])
            }
            return mark
        }

        /// Where the chunk starting at `start` (a visible character) ends, and the boundaries
        /// seen on the way.
        func chunkEnd(from start: Mark) -> (Mark, [Boundary]) {
            var boundaries: [Boundary] = []
            var cursor = start
            var lastVisibleEnd = start
            var whitespaceStart: Mark?
            var newlines = 0
            var endsSentence = false
            var endsClosedSentence = false
            while cursor.index < text.endIndex {
                let character = text[cursor.index]
                if character.isWhitespace {
                    if whitespaceStart == nil {
                        whitespaceStart = cursor
                        newlines = 0
                    }
                    if character.isNewline { newlines += 1 }
                    cursor = advance(cursor, over: character)
                    continue
                }
                if let end = whitespaceStart {
                    let strength: Strength = newlines >= 2 || Self.isPageBreak(text[end.index..<cursor.index])
                        ? .paragraph : (endsSentence ? .sentence : .word)
                    boundaries.append(Boundary(strength: strength, end: end, next: cursor))
                    whitespaceStart = nil
                } else if endsClosedSentence {
                    boundaries.append(Boundary(strength: .sentence, end: cursor, next: cursor))
                }
                if cursor.byte + character.utf8.count - start.byte > budget && cursor.index > start.index {
                    return (bestEnd(start: start, boundaries: boundaries, hardEnd: cursor), boundaries)
                }
                if Self.sentenceEnds.contains(character) {
                    endsSentence = true
                } else if !Self.closers.contains(character) {
                    endsSentence = false
                }
                endsClosedSentence = Self.closedSentenceEnds.contains(character)
                cursor = advance(cursor, over: character)
                lastVisibleEnd = cursor
            }
            return (lastVisibleEnd, boundaries)
        }

        private static func isPageBreak(_ whitespace: Substring) -> Bool {
            whitespace.contains("\u{0C}")
        }

        /// The strongest boundary that leaves the chunk at least half full; else the last one;
        /// else `hardEnd`, between two characters.
        private func bestEnd(start: Mark, boundaries: [Boundary], hardEnd: Mark) -> Mark {
            let halfFull = start.byte + budget / 2
            for strength in [Strength.paragraph, .sentence, .word] {
                if let boundary = boundaries.last(where: { $0.strength == strength && $0.end.byte >= halfFull }) {
                    return boundary.end
                }
            }
            return boundaries.last?.end ?? hardEnd
        }

        /// Where the chunk after `start..<end` begins, repeating at most `budget` bytes of its
        /// end: the first sentence start in that span, else the first word start, else as far
        /// back as fits.
        func overlapStart(start: Mark, end: Mark, boundaries: [Boundary], budget: Int) -> Mark {
            let earliest = end.byte - budget
            let inSpan = boundaries.filter { $0.next.byte >= earliest && $0.next.byte < end.byte && $0.next.byte > start.byte }
            if let boundary = inSpan.first(where: { $0.strength >= .sentence }) ?? inSpan.first {
                return boundary.next
            }
            var mark = end
            while mark.index > start.index {
                let previous = text.index(before: mark.index)
                let width = text[previous].utf8.count
                guard end.byte - (mark.byte - width) <= budget, previous > start.index else { break }
                mark = Mark(index: previous, byte: mark.byte - width, character: mark.character - 1)
            }
            return skipWhitespace(from: mark)
        }
    }
}
