import Foundation
import PromptlineCore

extension StoreContract {
    static func enqueueStoresBatchInOrder(_ stores: Stores) async throws {
        let store = try await stores.open()
        let batch = [
            newTask("first", priority: 0, metadata: ["row": "1"]),
            newTask("second", priority: 7, metadata: ["row": "2", "source": "contract"]),
            newTask("third", priority: -2),
        ]
        let before = Date()
        let ids = try await enqueue(batch, into: store)
        let after = Date()

        let records = try await store.tasks(ids: ids + ["no-such-task"])
        try checkEqual(records.count, batch.count, "tasks read back (the unknown id must be absent)")
        try check(records["no-such-task"] == nil, "an unknown id must be absent from tasks(ids:)")
        for task in batch {
            let record = try unwrap(records[task.id], "task \(task.id) was enqueued but is absent")
            try checkEqual(record.id, task.id, "id")
            try checkEqual(record.status, .queued, "status of a new task")
            try checkEqual(record.request, task.request, "request of \(task.id)")
            try checkEqual(record.priority, task.priority, "priority of \(task.id)")
            try checkEqual(record.metadata, task.metadata, "metadata of \(task.id)")
            try checkEqual(record.progress, 0, "progress of a new task")
            try checkEqual(record.attempts, 0, "attempts of a new task")
            try check(record.result == nil, "a new task has no result, got \(record.result ?? "")")
            try check(record.error == nil, "a new task has no error, got \(record.error ?? "")")
            try check(record.startedAt == nil, "a new task has no startedAt")
            try check(record.finishedAt == nil, "a new task has no finishedAt")
            try check(
                record.queuedAt >= before.addingTimeInterval(-1) && record.queuedAt <= after.addingTimeInterval(1),
                "queuedAt \(record.queuedAt) should be the time of the enqueue (\(before)…\(after))"
            )
        }
        try checkEqual(try await store.tasks(ids: []).count, 0, "tasks(ids: []) answer size")
        try checkEqual(try await store.counts(), QueueCounts(queued: 3), "counts after one batch of 3")
    }

    static func idempotencyKeyAnswersDuplicate(_ stores: Stores) async throws {
        let store = try await stores.open()
        let first = [newTask("a"), newTask("b")]
        let firstIDs = try await enqueue(first, into: store, idempotencyKey: "key-1")

        let again = [newTask("c"), newTask("d"), newTask("e")]
        let outcome = try await store.enqueue(again, idempotencyKey: "key-1")
        try checkEqual(outcome, .duplicate(firstIDs), "enqueue with an idempotency key seen before")
        try checkEqual(try await store.counts(), QueueCounts(queued: 2), "counts after a duplicate submission")
        let duplicates = try await store.tasks(ids: again.map(\.id))
        try check(duplicates.isEmpty, "tasks of a duplicate submission must not be stored, found \(duplicates.keys.sorted())")

        let other = [newTask("f")]
        _ = try await enqueue(other, into: store, idempotencyKey: "key-2")
        _ = try await enqueue([newTask("g")], into: store, idempotencyKey: nil)
        _ = try await enqueue([newTask("h")], into: store, idempotencyKey: nil)
        try checkEqual(try await store.counts(), QueueCounts(queued: 5), "counts after a new key and two unkeyed batches")
    }

    /// The protocol says "all or nothing" and does not say whether an empty batch is an error:
    /// a store may throw or answer no ids, but must store nothing.
    static func emptyBatchStoresNothing(_ stores: Stores) async throws {
        let store = try await stores.open()
        do {
            let outcome = try await store.enqueue([], idempotencyKey: nil)
            try check(outcome.ids.isEmpty, "an empty batch answered ids \(outcome.ids)")
        } catch let failure as ContractFailure {
            throw failure
        } catch {
            // Rejecting an empty batch is allowed.
        }
        try checkEqual(try await store.counts(), QueueCounts(), "counts after an empty batch")
        try checkEqual(try await store.claim(limit: 10, lease: .seconds(60)).count, 0, "tasks claimable after an empty batch")
    }

    static func metadataAndUnicodeRoundTrip(_ stores: Stores) async throws {
        let store = try await stores.open()
        let prompts = [
            "héllo wörld — ça va ?",
            "日本語のテキストと中文和한국어",
            "emoji 👩‍👩‍👧‍👦 🏳️‍🌈 🇫🇷 🤖",
            "עברית ועربي right-to-left",
            "e\u{301} combining, not é",
            "quotes \" ' ` backslash \\ newline \n tab \t cr \r",
            "nul \u{0} inside, and \u{1F} control",
            "",
            String(repeating: "long prompt ✓ ", count: 8_000),
        ]
        let metadata = [
            "ключ": "значение",
            "emoji 🔑": "🎉",
            "empty": "",
            "json": "{\"a\": [1, 2], \"b\": null}",
            " padded key ": "  padded value  ",
            "decomposed e\u{301}": "precomposed é",
        ]
        var batch = prompts.enumerated().map { index, prompt in
            newTask(prompt, priority: index - 4, metadata: index.isMultiple(of: 2) ? metadata : [:])
        }
        batch.append(NewTask(
            request: ChatRequest(
                model: "provider/some-model:tag@2024",
                messages: [
                    ChatMessage(role: "system", content: "Tu es un assistant. 你是助手。"),
                    ChatMessage(role: "user", content: "Question ❓"),
                    ChatMessage(role: "assistant", content: "Réponse ✅"),
                    ChatMessage(role: "user", content: "Suite…"),
                ],
                maxTokens: 4_096,
                temperature: 0.123456789
            ),
            priority: 1_000_000,
            metadata: metadata
        ))
        // OpenAI parameters Promptline does not interpret, and the cache opt-out, are kept too.
        var withParameters = newTask("with parameters")
        withParameters.request.parameters = [
            "top_p": .number(0.5), "seed": .number(42), "stop": .array([.string("\n\n"), .string("é")]),
            "response_format": .object(["type": .string("json_object")]), "logprobs": .bool(false), "user": .null,
        ]
        batch.append(withParameters)
        var uncached = newTask("never from the cache")
        uncached.request.cacheable = false
        batch.append(uncached)
        let ids = try await enqueue(batch, into: store)
        let records = try await store.tasks(ids: ids)
        // Swift's `==` on strings ignores Unicode normalisation; compare bytes.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for task in batch {
            let record = try unwrap(records[task.id], "task \(task.id) was enqueued but is absent")
            try check(
                try encoder.encode(record.request) == encoder.encode(task.request),
                "request of \(task.id) did not round-trip byte for byte: stored \(task.request), read \(record.request)"
            )
            try check(
                record.request.parameters == task.request.parameters && record.request.cacheable == task.request.cacheable,
                "parameters or cache opt-out of \(task.id) did not round-trip: stored \(task.request), read \(record.request)"
            )
            try check(
                try encoder.encode(record.metadata) == encoder.encode(task.metadata),
                "metadata of \(task.id) did not round-trip byte for byte: stored \(task.metadata), read \(record.metadata)"
            )
            try checkEqual(record.priority, task.priority, "priority of \(task.id)")
        }
        let claimed = try await store.claim(limit: batch.count, lease: .seconds(60))
        try checkEqual(claimed.count, batch.count, "tasks claimed")
        let requests = Dictionary(uniqueKeysWithValues: batch.map { ($0.id, $0.request) })
        for task in claimed {
            let expected = try unwrap(requests[task.id], "claimed an unknown task \(task.id)")
            try check(
                try encoder.encode(task.request) == encoder.encode(expected),
                "claimed request of \(task.id) did not round-trip byte for byte: stored \(expected), claimed \(task.request)"
            )
        }
    }

    static func largeBatchEnqueuesAtomically(_ stores: Stores) async throws {
        let store = try await stores.open()
        let batch = (0..<5_000).map { newTask("prompt \($0)", metadata: ["index": "\($0)"]) }
        let ids = try await enqueue(batch, into: store)
        try checkEqual(Set(ids).count, batch.count, "distinct ids answered")
        try checkEqual(try await store.counts(), QueueCounts(queued: batch.count), "counts after a batch of 5,000")
        let records = try await store.tasks(ids: ids)
        try checkEqual(records.count, batch.count, "tasks read back")
        try checkEqual(records[ids[4_321]]?.metadata, ["index": "4321"], "metadata of task 4321")
        let firstClaimed = try await store.claim(limit: 10, lease: .seconds(60)).map(\.id)
        try checkEqual(firstClaimed, Array(ids.prefix(10)), "first ten claimed (enqueue order within a batch)")
    }
}
