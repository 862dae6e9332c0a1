import PromptlineCore
import RedisClient

/// Flows in the Redis store: every change is one script (``Scripts/enqueueFlow``,
/// ``Scripts/addChildren``, and `finish` inside every script that finishes a task), so
/// instances sharing the Redis share each flow; the key layout is in ``Scripts``.
extension RedisTaskStore {
    package func enqueueFlow(_ flow: NewFlow, idempotencyKey: String?) async throws -> EnqueueOutcome {
        var arguments: [RedisScript.Argument] = [
            .string(prefix), .string(idempotencyKey ?? ""), .integer(configuration.retention.resultTTL.milliseconds),
            .string(flow.onChildFailure.rawValue), .string(flow.maxParallel.map { String(max($0, 1)) } ?? ""),
        ]
        try Self.appendFields(of: [flow.parent] + flow.children, to: &arguments)
        let outcome = Self.enqueueOutcome(
            try await run(Scripts.enqueueFlow, arguments), ids: [flow.parent.id] + flow.children.map(\.id))
        if case .stored = outcome { workSignal.signal() }
        return outcome
    }

    package func addChildren(_ lease: TaskLease, children: [NewTask], maxParallel: Int?) async throws -> Bool {
        var arguments: [RedisScript.Argument] = [
            .string(prefix), .string(lease.id), .integer(lease.token), .string(maxParallel.map { String(max($0, 1)) } ?? ""),
        ]
        try Self.appendFields(of: children, to: &arguments)
        let added = try Self.integer(try await run(Scripts.addChildren, arguments)) == 1
        if added { workSignal.signal() }
        return added
    }

    package func flow(parentID: String) async throws -> FlowState? {
        let reply = try await run(Scripts.flow, [.string(prefix), .string(parentID)])
        switch reply {
        case .null, .boolean(false): return nil  // Lua's false, in RESP2 or RESP3
        default: break
        }
        let values = try Self.elements(reply)
        guard values.count == 4, let policy = values[0].string.flatMap(FlowFailurePolicy.init(rawValue:)),
            let pending = values[1].int64
        else { throw Self.unreadable("flow") }
        let failed = try Self.elements(values[3]).map { $0.string ?? "" }
        var failedChildren: [String: String] = [:]
        for index in stride(from: 0, to: failed.count - 1, by: 2) {
            failedChildren[failed[index]] = failed[index + 1]
        }
        return FlowState(
            childIDs: try Self.elements(values[2]).compactMap(\.string), pending: Int(pending),
            failedChildren: failedChildren, policy: policy)
    }
}
