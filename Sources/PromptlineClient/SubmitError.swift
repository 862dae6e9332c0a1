/// A chunk the server did not queue. The chunks before it are queued.
package struct SubmitError: Error, Sendable, CustomStringConvertible {
    package var cause: TaskClientError
    /// Prompts queued by the chunks before this one.
    package var queuedPrompts: Int
    package var description: String

    init(chunk: SubmissionChunk, of count: Int, lines: [InputLine], queued: Int, cause: TaskClientError) {
        let first = lines[chunk.lines.lowerBound].number
        let last = lines[chunk.lines.upperBound - 1].number
        var cause = cause
        // The server names a prompt by its place in the chunk; the user knows it by its line.
        cause.message = cause.message.replacing(#/prompts\[(\d+)\]/#) { match in
            guard let index = Int(match.output.1), index < chunk.lines.count else { return String(match.output.0) }
            return "\(match.output.0) (line \(lines[chunk.lines.lowerBound + index].number))"
        }
        var text = "chunk \(chunk.index + 1) of \(count) (lines \(first)–\(last)) was not queued: \(cause)"
        if cause.code == .status(413) { text += " (a smaller --chunk-size may pass)" }
        if queued > 0 {
            text += ". The \(queued) prompts before it are queued; running the same command again finds them instead of queueing them twice"
        }
        self.cause = cause
        self.queuedPrompts = queued
        self.description = text
    }
}
