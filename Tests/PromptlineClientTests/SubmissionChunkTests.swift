import Foundation
@testable import PromptlineClient
import PromptlineCore
import Testing

@Suite struct SubmissionChunkTests {
    func lines(_ prompts: [String]) -> [InputLine] {
        prompts.enumerated().map { InputLine(number: $0.offset + 1, prompt: .string($0.element)) }
    }

    @Test func chunksHoldAtMostMaxPromptsInOrder() throws {
        let input = lines((0..<7).map { "p\($0)" })
        let chunks = SubmissionChunk.plan(input, maxPrompts: 3)
        #expect(chunks.map(\.lines) == [0..<3, 3..<6, 6..<7])
        #expect(chunks.map(\.index) == [0, 1, 2])
        let body = try JSONValue.parse(chunks[1].body)
        #expect(body["prompts"] == .array([.string("p3"), .string("p4"), .string("p5")]))
        #expect(body["idempotency_key"]?.string == chunks[1].idempotencyKey)
    }

    @Test func longPromptsMakeSmallerChunks() {
        let input = lines([String(repeating: "a", count: 600), "b", String(repeating: "c", count: 600), "d"])
        let chunks = SubmissionChunk.plan(input, maxPrompts: 100, maxBytes: 1_000)
        #expect(chunks.map(\.lines) == [0..<2, 2..<4])
    }

    @Test func theKeyFollowsThePromptsThePlaceAndTheRunKey() {
        let input = lines(["a", "b", "c", "d"])
        let first = SubmissionChunk.plan(input, maxPrompts: 2).map(\.idempotencyKey)
        #expect(SubmissionChunk.plan(input, maxPrompts: 2).map(\.idempotencyKey) == first)
        #expect(Set(first).count == 2)
        #expect(first.allSatisfy { $0.hasPrefix("cli-") && $0.count <= 256 })
        // An edited line changes its own chunk's key only.
        let edited = SubmissionChunk.plan(lines(["a", "b", "c", "D"]), maxPrompts: 2).map(\.idempotencyKey)
        #expect(edited[0] == first[0] && edited[1] != first[1])
        // The same prompts in another place, or under another run key, are another submission.
        #expect(SubmissionChunk.plan(lines(["c", "d", "a", "b"]), maxPrompts: 2).map(\.idempotencyKey) != [first[1], first[0]])
        #expect(Set(SubmissionChunk.plan(input, maxPrompts: 2, runKey: "again").map(\.idempotencyKey)).isDisjoint(with: first))
    }

    @Test func aRefusedChunkNamesTheLineOfThePromptAtFault() {
        let input = [InputLine(number: 1, prompt: .string("a")), InputLine(number: 5, prompt: .string("b")), InputLine(number: 9, prompt: .string("c"))]
        let chunks = SubmissionChunk.plan(input, maxPrompts: 2)
        let cause = TaskClientError(.status(422), message: "prompts[0].temperature must be between 0 and 2")
        let error = SubmitError(chunk: chunks[1], of: 2, lines: input, queued: 2, cause: cause)
        #expect(error.description.hasPrefix(
            "chunk 2 of 2 (lines 9–9) was not queued: the server answered 422: prompts[0] (line 9).temperature must be between 0 and 2. The 2 prompts before it are queued"))
    }
}
