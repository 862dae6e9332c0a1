/// Submits an input file chunk by chunk, in order, riding out a busy or restarting server.
package struct Submitter: Sendable {
    /// What happened to a chunk, for a progress display.
    package enum Event: Sendable {
        /// A chunk is queued; `duplicate` when an earlier run had queued it already.
        case submitted(SubmissionChunk, duplicate: Bool)
        /// A chunk failed for a reason that may pass, and is sent again after `wait`.
        case retrying(SubmissionChunk, TaskClientError, wait: Duration)
    }

    package var client: TaskClient
    package var retry: ServerRetry

    package init(client: TaskClient, retry: ServerRetry = ServerRetry()) {
        self.client = client
        self.retry = retry
    }

    /// Submits every chunk of `lines`; answers one task id per line, in order.
    /// - Throws: ``SubmitError`` for the first chunk the server did not queue; the chunks
    ///   before it stay queued.
    package func submit(_ chunks: [SubmissionChunk], of lines: [InputLine], onEvent: (Event) -> Void) async throws -> [String] {
        var ids: [String] = []
        ids.reserveCapacity(lines.count)
        for chunk in chunks {
            let answer: SubmitAnswer
            do {
                answer = try await retry.run {
                    try await client.submit(body: chunk.body)
                } onRetry: { error, wait in
                    onEvent(.retrying(chunk, error, wait: wait))
                }
            } catch let error as TaskClientError {
                throw SubmitError(chunk: chunk, of: chunks.count, lines: lines, queued: ids.count, cause: error)
            }
            guard answer.taskIDs.count == chunk.lines.count else {
                let cause = TaskClientError(.invalidAnswer, message: """
                    \(answer.taskIDs.count) task ids for \(chunk.lines.count) prompts: the server holds another \
                    submission under this chunk's idempotency key (choose a new --idempotency-key)
                    """)
                throw SubmitError(chunk: chunk, of: chunks.count, lines: lines, queued: ids.count, cause: cause)
            }
            ids += answer.taskIDs
            onEvent(.submitted(chunk, duplicate: answer.duplicate))
        }
        return ids
    }
}
