/// What a worker does with a step of a job (a summary's document, its final combine): a
/// task whose request has no messages yet, built when it runs from what its children left.
///
/// Handlers are registered on the ``WorkerPool`` by the namespace of the task ids they own
/// (`summary` for `summary:…`). A step is claimed, leased, retried and dead-lettered as any
/// task; its handler only decides what this run does.
package protocol TaskStepHandler: Sendable {
    func step(for task: ClaimedTask) async throws -> TaskStep
}

/// What a step's run comes to.
package enum TaskStep: Sendable {
    /// Send this request upstream; its answer is the task's result.
    case call(ChatRequest)
    /// The task is done without a call, with this result.
    case finish(TaskResult)
    /// Run this upstream call of another kind (an embedding); its answer is the task's
    /// result. Like ``call(_:)`` it waits for the rate-limit gate first, and an
    /// ``UpstreamError`` it throws is retried, paused for and dead-lettered as a chat call's is.
    case perform(@Sendable () async throws -> TaskResult)
    /// The handler gave the task new children (``FlowStore/addChildren(_:children:maxParallel:)``):
    /// it waits for them, and runs again when they have finished.
    case waiting
}

/// A step that cannot succeed however often it is tried (a document without text, every
/// chunk failed): the task ends `error` with this message at once.
package struct TaskStepFailure: Error, CustomStringConvertible {
    package var message: String

    package init(_ message: String) {
        self.message = message
    }

    package var description: String { message }
}

extension ClaimedTask {
    /// The part of the id before its first `:`, which names the handler of a step.
    package var namespace: Substring {
        id.prefix { $0 != ":" }
    }
}
