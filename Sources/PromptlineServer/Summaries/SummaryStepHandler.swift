import PromptlineCore
import PromptlineDocuments

/// Runs a summary's steps (``SummaryTaskID``): a document's first run cuts it into chunks and
/// waits for their calls; every later run, and the summary's own, combines what the level
/// below left: in one call when the partial summaries fit `chunk_tokens`, else by a level of
/// collapse calls over groups that fit, waited for in turn (map-reduce with collapse).
struct SummaryStepHandler: TaskStepHandler {
    let summaries: SummaryService

    /// Levels of collapse at most; past it the partials are combined in one call whatever
    /// their size (a model whose answers do not shrink would otherwise never finish). A
    /// level that groups nothing ends the collapse sooner.
    static let maxLevels = 8

    func step(for task: ClaimedTask) async throws -> TaskStep {
        guard let id = SummaryTaskID(task.id), id.level == nil else {
            throw TaskStepFailure("\(task.id) is not a step of a summary")
        }
        guard let record = try await summaries.record(id.summaryID) else {
            throw TaskStepFailure("the summary \(id.summaryID) is gone (expired)")
        }
        let flow = try await summaries.store.flow(parentID: task.id)
        if let document = id.document, flow == nil {
            return try await map(document, of: record, task: task)
        }
        guard let flow else { throw TaskStepFailure("the summary \(id.summaryID) has no documents") }
        return try await combine(flow, of: record, document: id.document, task: task)
    }

    /// Cuts a document into chunks and waits for a call per chunk.
    private func map(_ document: Int, of record: SummaryRecord, task: ClaimedTask) async throws -> TaskStep {
        let name = record.documents[document].name
        let text = try await summaries.text(of: record, document: document)
        let chunks = TextChunker(chunkTokens: record.chunkTokens).chunks(of: text)
        guard !chunks.isEmpty else { throw TaskStepFailure("\(name) has no text to summarise") }
        let system = SummaryPrompts.system(instructions: record.instructions)
        let calls = chunks.map { chunk in
            summaries.call(
                SummaryTaskID.call(below: task.id, level: 0, index: chunk.index), of: record,
                messages: [system, SummaryPrompts.chunk(chunk.text, of: name, part: chunk.index + 1, of: chunks.count)]
            )
        }
        _ = try await summaries.store.addChildren(task.lease, children: calls, maxParallel: record.chunkWindow)
        return .waiting
    }

    /// Combines the results of the level below: finished, one call, or another level.
    private func combine(_ flow: FlowState, of record: SummaryRecord, document: Int?, task: ClaimedTask) async throws -> TaskStep {
        let level = flow.childIDs.map(SummaryTaskID.level(ofChild:)).max() ?? 0
        let current = flow.childIDs.filter { SummaryTaskID.level(ofChild: $0) == level }
        let tasks = try await summaries.store.tasks(ids: current)
        let finished = current.compactMap { id -> (name: String, text: String)? in
            guard let task = tasks[id], task.status == .completed, let result = task.result else { return nil }
            let name = SummaryTaskID(id)?.document.map { record.documents[$0].name } ?? ""
            return (name, result)
        }
        let what = document.map { record.documents[$0].name }
        guard !finished.isEmpty else {
            let cause = flow.failedChildren.values.sorted().first ?? "no part was summarised"
            throw TaskStepFailure(what.map { "every chunk of \($0) failed: \(cause)" } ?? "every document failed: \(cause)")
        }
        if finished.count == 1 { return .finish(TaskResult(content: finished[0].text)) }
        let system = SummaryPrompts.system(instructions: record.instructions)
        let documentsLevel = document == nil && level == 0
        func prompt(_ part: ArraySlice<(name: String, text: String)>) -> ChatMessage {
            documentsLevel
                ? SummaryPrompts.combineDocuments(part.map { ($0.name, $0.text) })
                : SummaryPrompts.combine(part.map(\.text), of: what ?? "all documents")
        }
        let tokens = finished.map { TextChunker.estimatedTokens(in: $0.text) }
        if tokens.reduce(0, +) <= record.chunkTokens || level >= Self.maxLevels {
            return .call(summaries.request(of: record, messages: [system, prompt(finished[...])]))
        }
        // Groups of consecutive partials that fit one call, each at least two long when it can be.
        var groups: [Range<Int>] = []
        var start = 0
        var sum = 0
        for index in finished.indices {
            if index > start, sum + tokens[index] > record.chunkTokens {
                groups.append(start..<index)
                (start, sum) = (index, 0)
            }
            sum += tokens[index]
        }
        groups.append(start..<finished.count)
        // A level that groups nothing (every partial fills a call alone) shrinks them once;
        // when the next one groups nothing either, the answers do not shrink: combine now.
        if groups.count == finished.count, level > 0 {
            return .call(summaries.request(of: record, messages: [system, prompt(finished[...])]))
        }
        let calls = groups.enumerated().map { number, range in
            summaries.call(
                SummaryTaskID.call(below: task.id, level: level + 1, index: number), of: record,
                messages: [system, prompt(finished[range])]
            )
        }
        let window = document == nil ? record.maxParallel : record.chunkWindow
        _ = try await summaries.store.addChildren(task.lease, children: calls, maxParallel: window)
        return .waiting
    }
}
