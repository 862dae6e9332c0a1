import PromptlineCore

/// Runs a grounded question of a submission (a prompt with `vector_store_ids`): retrieves
/// its sources when it runs, keeps them as the task's citations, and sends the question
/// with them numbered (``AnswerService/messages(question:citations:)``). Retrieval failing
/// on the upstream is retried as a call is; a store deleted since submission fails the task.
struct GroundedStepHandler: TaskStepHandler {
    let answers: AnswerService

    func step(for task: ClaimedTask) async throws -> TaskStep {
        guard let grounding = task.request.grounding,
              let last = task.request.messages.lastIndex(where: { $0.role == "user" })
        else { throw TaskStepFailure("a grounded question needs a user message to answer") }
        var records: [VectorStoreRecord] = []
        for id in grounding.vectorStoreIDs {
            guard let record = try await answers.stores.record(id) else {
                throw TaskStepFailure("the vector store \(id) is gone (deleted or expired)")
            }
            records.append(record)
        }
        let question = task.request.messages[last].content
        let citations = try await answers.citations(for: question, in: records, limit: grounding.maxResults)
        try await answers.keep(citations, ofTask: task.id)
        var request = task.request
        request.grounding = nil
        let grounded = AnswerService.messages(question: question, citations: citations)
        // The grounded system message first, the conversation before the question kept.
        request.messages = [grounded[0]] + request.messages[..<last] + [grounded[1]]
        return .call(request)
    }
}
