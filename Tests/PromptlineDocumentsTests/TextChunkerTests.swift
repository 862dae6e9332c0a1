import PromptlineDocuments
import Testing

@Suite struct TextChunkerTests {
    /// Checks what holds for every chunking: each chunk is the source's characters at its
    /// range, non-empty, trimmed, within the budget, numbered in order, moving forward; without
    /// overlap, the chunks and the whitespace between them are the whole text.
    private func checkInvariants(_ chunks: [TextChunk], of text: String, chunker: TextChunker,
                                 sourceLocation: SourceLocation = #_sourceLocation) {
        let characters = Array(text)
        for (position, chunk) in chunks.enumerated() {
            #expect(chunk.index == position, sourceLocation: sourceLocation)
            #expect(!chunk.text.isEmpty, sourceLocation: sourceLocation)
            #expect(chunk.text.first?.isWhitespace == false && chunk.text.last?.isWhitespace == false,
                    sourceLocation: sourceLocation)
            #expect(String(characters[chunk.characterRange]) == chunk.text, sourceLocation: sourceLocation)
            #expect(chunk.estimatedTokens <= chunker.chunkTokens, "chunk \(position): \(chunk.text)",
                    sourceLocation: sourceLocation)
            if position > 0 {
                let previous = chunks[position - 1].characterRange
                #expect(chunk.characterRange.lowerBound > previous.lowerBound, sourceLocation: sourceLocation)
                #expect(chunk.characterRange.upperBound > previous.upperBound, sourceLocation: sourceLocation)
            }
        }
        guard chunker.overlapTokens == 0 else { return }
        var covered = 0
        for chunk in chunks {
            #expect(characters[covered..<chunk.characterRange.lowerBound].allSatisfy { $0.isWhitespace },
                    sourceLocation: sourceLocation)
            covered = chunk.characterRange.upperBound
        }
        #expect(characters[covered...].allSatisfy { $0.isWhitespace }, sourceLocation: sourceLocation)
    }

    @Test func tokensAreEstimatedFromUTF8Bytes() {
        #expect(TextChunker.estimatedTokens(in: "") == 0)
        #expect(TextChunker.estimatedTokens(in: "abcd") == 1)
        #expect(TextChunker.estimatedTokens(in: "abcde") == 2)
        #expect(TextChunker.estimatedTokens(in: "요약") == 2)  // 6 bytes
        #expect(TextChunker.estimatedTokens(in: "café"[...]) == 2)  // 5 bytes
    }

    @Test func emptyAndBlankTextsHaveNoChunks() {
        let chunker = TextChunker(chunkTokens: 10)
        #expect(chunker.chunks(of: "").isEmpty)
        #expect(chunker.chunks(of: " \n\n\t \u{0C} ").isEmpty)
    }

    @Test func aShortTextIsOneTrimmedChunk() {
        let text = "\n\n  Hello, world.  \n"
        let chunks = TextChunker(chunkTokens: 100).chunks(of: text)
        #expect(chunks == [TextChunk(index: 0, text: "Hello, world.", characterRange: 4..<17)])
    }

    @Test func chunksEndOnParagraphsFirst() {
        // Paragraphs of 63 bytes; a chunk holds 100 bytes, so one paragraph each, though a
        // sentence of the next one would fit.
        let paragraph = "First sentence here. Second sentence here. Third one is here."
        let text = [paragraph, paragraph, paragraph].joined(separator: "\n\n")
        let chunker = TextChunker(chunkTokens: 25)
        let chunks = chunker.chunks(of: text)
        #expect(chunks.map(\.text) == [paragraph, paragraph, paragraph])
        checkInvariants(chunks, of: text, chunker: chunker)
    }

    @Test func aPageBreakIsAParagraphBoundary() {
        // The page break leaves the first chunk 31 bytes long, the sentence after it 42: the
        // page break wins.
        let text = "The first page ends right here.\u{0C}Page two. And it goes on for a while longer."
        let chunks = TextChunker(chunkTokens: 12).chunks(of: text)
        #expect(chunks.first?.text == "The first page ends right here.")
    }

    @Test func thenOnSentences() {
        let text = "One short sentence. Another short sentence! A question, is it? Then one more sentence. The end."
        let chunker = TextChunker(chunkTokens: 12)
        let chunks = chunker.chunks(of: text)
        #expect(chunks.map(\.text) == [
            "One short sentence. Another short sentence!",
            "A question, is it? Then one more sentence.",
            "The end.",
        ])
        checkInvariants(chunks, of: text, chunker: chunker)
    }

    @Test func aClosingQuoteAfterTheSentenceEndStillEndsTheSentence() {
        let text = "He said \"stop now.\" Then nothing happened for quite a long while after that."
        let chunks = TextChunker(chunkTokens: 9).chunks(of: text)
        #expect(chunks.first?.text == "He said \"stop now.\"")
    }

    @Test func thenOnWords() {
        let words = (1...40).map { "word\($0)" }
        let text = words.joined(separator: " ")
        let chunker = TextChunker(chunkTokens: 10)
        let chunks = chunker.chunks(of: text)
        #expect(chunks.count > 3)
        // No word is cut: the chunks' words, in order, are the text's words.
        #expect(chunks.flatMap { $0.text.split(separator: " ").map(String.init) } == words)
        checkInvariants(chunks, of: text, chunker: chunker)
    }

    @Test func aSingleVeryLongWordIsCutBetweenCharacters() {
        let text = String(repeating: "x", count: 1_000)
        let chunker = TextChunker(chunkTokens: 10)
        let chunks = chunker.chunks(of: text)
        #expect(chunks.count == 25)
        #expect(chunks.allSatisfy { $0.text.count == 40 })
        checkInvariants(chunks, of: text, chunker: chunker)

        let afterAShortWord = "a " + text
        let second = chunker.chunks(of: afterAShortWord)
        #expect(second.first?.text == "a")
        #expect(second.dropFirst().map(\.text).joined() == text)
        checkInvariants(second, of: afterAShortWord, chunker: chunker)
    }

    @Test func aCharacterIsNeverSplit() {
        // Each flag is one character of 8 bytes; a chunk of 3 tokens (12 bytes) holds one.
        let text = String(repeating: "🇰🇷", count: 5)
        let chunker = TextChunker(chunkTokens: 3)
        let chunks = chunker.chunks(of: text)
        #expect(chunks.map(\.text) == Array(repeating: "🇰🇷", count: 5))
        #expect(chunks.map(\.characterRange) == [0..<1, 1..<2, 2..<3, 3..<4, 4..<5])
        // A chunk of one token cannot hold one; it still takes a whole one.
        #expect(TextChunker(chunkTokens: 1).chunks(of: text).count == 5)
    }

    @Test func koreanTextIsCutOnItsSentences() {
        let sentence = "문서를 요약합니다. "  // 27 bytes, 11 characters
        let text = String(repeating: sentence, count: 10)
        let chunker = TextChunker(chunkTokens: 20)  // 80 bytes: three sentences
        let chunks = chunker.chunks(of: text)
        #expect(chunks.count == 4)
        #expect(chunks.allSatisfy { $0.text.hasSuffix("요약합니다.") })
        #expect(chunks[0].text == String(repeating: sentence, count: 3).trimmingWhitespace)
        #expect(chunks[0].characterRange == 0..<32)
        checkInvariants(chunks, of: text, chunker: chunker)
    }

    @Test func textWithoutSpacesIsCutAfterIdeographicFullStops() {
        let text = "今日は晴れです。明日は雨です。週末は分かりません。"
        let chunker = TextChunker(chunkTokens: 12)  // 48 bytes: 16 characters
        let chunks = chunker.chunks(of: text)
        #expect(chunks.map(\.text) == ["今日は晴れです。明日は雨です。", "週末は分かりません。"])
        checkInvariants(chunks, of: text, chunker: chunker)
    }

    @Test func overlapRepeatsTheEndOfThePreviousChunkFromASentenceStart() {
        let text = "Alpha one. Beta two. Gamma three. Delta four. Epsilon five. Zeta six. Eta seven. Theta eight."
        let chunker = TextChunker(chunkTokens: 12, overlapTokens: 6)
        let chunks = chunker.chunks(of: text)
        checkInvariants(chunks, of: text, chunker: chunker)
        #expect(chunks.count >= 3)
        let characters = Array(text)
        for (previous, next) in zip(chunks, chunks.dropFirst()) {
            let overlap = next.characterRange.clamped(to: previous.characterRange)
            #expect(!overlap.isEmpty)
            #expect(TextChunker.estimatedTokens(in: String(characters[overlap])) <= 6)
            // It starts at a sentence: right after ". ".
            #expect(String(characters[(next.characterRange.lowerBound - 2)..<next.characterRange.lowerBound]) == ". ")
        }
        #expect(chunks.last?.text.hasSuffix("Theta eight.") == true)
    }

    @Test func overlapInAWordFallsBackToAWordStartThenToCharacters() {
        let words = (1...30).map { "w\($0)" }
        let text = words.joined(separator: " ")
        let chunker = TextChunker(chunkTokens: 8, overlapTokens: 3)
        let chunks = chunker.chunks(of: text)
        checkInvariants(chunks, of: text, chunker: chunker)
        for chunk in chunks.dropFirst() {
            #expect(words.contains(String(chunk.text.split(separator: " ")[0])))
        }

        let long = String(repeating: "y", count: 100)
        let longChunks = chunker.chunks(of: long)
        checkInvariants(longChunks, of: long, chunker: chunker)
        // 32 characters each, the next starting 12 before the end of the one before.
        #expect(longChunks.map(\.characterRange.lowerBound) == [0, 20, 40, 60, 80])
        #expect(longChunks.last?.characterRange.upperBound == 100)
    }

    @Test func overlapIsAtMostHalfAChunk() {
        #expect(TextChunker(chunkTokens: 10, overlapTokens: 50).overlapTokens == 5)
        #expect(TextChunker(chunkTokens: 0, overlapTokens: -1).chunkTokens == 1)
        #expect(TextChunker(chunkTokens: 0, overlapTokens: -1).overlapTokens == 0)
    }

    @Test(arguments: [(7, 0), (25, 0), (64, 0), (25, 10), (64, 30), (200, 50)])
    func generatedTextsKeepEveryInvariant(chunkTokens: Int, overlapTokens: Int) {
        let text = GeneratedText.make(seed: UInt64(chunkTokens * 1_000 + overlapTokens), words: 3_000)
        let chunker = TextChunker(chunkTokens: chunkTokens, overlapTokens: overlapTokens)
        let chunks = chunker.chunks(of: text)
        #expect(!chunks.isEmpty)
        checkInvariants(chunks, of: text, chunker: chunker)
        #expect(chunker.chunks(of: text) == chunks)
    }
}

private extension String {
    var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
