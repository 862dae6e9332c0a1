import Crypto
import Foundation
import PromptlineCore

/// Consecutive lines of an input file, submitted in one `POST /api/tasks`.
///
/// Each chunk carries an idempotency key derived from its prompts, its place in the file
/// and the run key, so a chunk sent again (a retry, or the same command run again after an
/// interruption) answers the ids of the tasks it queued the first time and queues nothing.
package struct SubmissionChunk: Sendable, Hashable {
    /// The chunk's place, counting from 0.
    package var index: Int
    /// Indexes into the lines the chunk was planned from.
    package var lines: Range<Int>
    package var idempotencyKey: String
    /// The JSON request body.
    package var body: String

    /// Splits `lines` into chunks of at most `maxPrompts` prompts and, where prompts are
    /// long, about `maxBytes` bytes of body (a prompt larger than that goes alone).
    /// - Parameter runKey: mixed into every idempotency key; a new value queues the same
    ///   file again instead of finding the tasks of an earlier run.
    package static func plan(_ lines: [InputLine], maxPrompts: Int, maxBytes: Int = 8 << 20, runKey: String = "") -> [SubmissionChunk] {
        precondition(maxPrompts > 0, "a chunk holds at least one prompt")
        let texts = lines.map(\.prompt.canonicalText)
        var chunks: [SubmissionChunk] = []
        var start = 0
        while start < texts.count {
            var end = start + 1
            var bytes = texts[start].utf8.count
            while end < texts.count, end - start < maxPrompts, bytes + texts[end].utf8.count < maxBytes {
                bytes += texts[end].utf8.count + 1
                end += 1
            }
            chunks.append(SubmissionChunk(index: chunks.count, lines: start..<end, prompts: texts[start..<end], runKey: runKey))
            start = end
        }
        return chunks
    }

    init(index: Int, lines: Range<Int>, prompts: ArraySlice<String>, runKey: String) {
        let list = prompts.joined(separator: ",")
        var hash = SHA256()
        hash.update(data: Array("promptline submit\n\(runKey)\n\(index)\n[\(list)]".utf8))
        let key = "cli-" + hash.finalize().map { String(format: "%02x", $0) }.joined()
        self.index = index
        self.lines = lines
        self.idempotencyKey = key
        self.body = #"{"idempotency_key":"\#(key)","prompts":[\#(list)]}"#
    }
}
