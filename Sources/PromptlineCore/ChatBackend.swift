/// A chat-completions API the workers send tasks to.
package protocol ChatBackend: Sendable {
    /// Runs one attempt of a chat completion. `progress` is called with the number of
    /// tokens generated so far while the answer streams. Throws ``UpstreamError``.
    func complete(_ request: ChatRequest, progress: @escaping @Sendable (Int) -> Void) async throws -> TaskResult
}
