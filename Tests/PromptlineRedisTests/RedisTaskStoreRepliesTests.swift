import Foundation
import NIOCore
import PromptlineCore
@testable import PromptlineRedis
import RedisClient
import Testing

/// The scripts' answers read by name, without a Redis: each test writes a reply the way its
/// script does, value by named field.
@Suite struct RedisTaskStoreRepliesTests {
    private static func bulk(_ text: String) -> RESPValue { .bulkString(ByteBuffer(string: text)) }

    @Test func aStoredTaskIsReadFieldByField() throws {
        typealias Field = RedisTaskStore.StoredTaskReply.Field
        let values: [Field: RESPValue] = [
            .status: Self.bulk("completed"), .priority: Self.bulk("-3"), .model: Self.bulk("m"), .maxTokens: Self.bulk("64"),
            .temperature: Self.bulk("0.5"), .prompt: Self.bulk("hi"), .metadata: Self.bulk(#"{"k":"v"}"#),
            .result: Self.bulk("hello"), .progress: Self.bulk("100"), .attempts: Self.bulk("2"),
            .queuedAt: Self.bulk("1000"), .startedAt: Self.bulk("2000"), .finishedAt: Self.bulk("3500"),
            .promptTokens: Self.bulk("3"), .completionTokens: Self.bulk("4"), .totalTokens: Self.bulk("7"),
            .expiresAt: Self.bulk("9000"), .owner: Self.bulk("key-1"),
        ]
        let reply = RESPValue.array(Field.allCases.map { values[$0] ?? .null })
        let record = try RedisTaskStore.StoredTaskReply(reply).record(id: "t1")
        #expect(record.id == "t1" && record.status == .completed && record.priority == -3)
        #expect(record.request.model == "m" && record.request.maxTokens == 64 && record.request.temperature == 0.5)
        #expect(record.request.messages == [ChatMessage(role: "user", content: "hi")])
        #expect(record.metadata == ["k": "v"])
        #expect(record.result == "hello" && record.error == nil)
        #expect(record.progress == 100 && record.attempts == 2)
        #expect(record.queuedAt == Date(timeIntervalSince1970: 1) && record.startedAt == Date(timeIntervalSince1970: 2))
        #expect(record.finishedAt == Date(timeIntervalSince1970: 3.5))
        #expect(record.usage == TokenUsage(promptTokens: 3, completionTokens: 4, totalTokens: 7))
        #expect(record.owner == "key-1")
    }

    @Test func theReadScriptAsksForTheFieldsInTheirOrder() {
        let keys = RedisTaskStore.StoredTaskReply.Field.allCases.map { "'\($0.key)'" }.joined(separator: ", ")
        #expect(Scripts.read.source.contains("HMGET', P .. 'task:' .. ARGV[i], \(keys))"))
        #expect(Set(RedisTaskStore.StoredTaskReply.Field.allCases.map(\.key)).count == RedisTaskStore.StoredTaskReply.Field.allCases.count)
    }

    @Test func aStoredTaskOfTheWrongLengthIsUnreadable() {
        #expect(throws: RedisClientError.self) { try RedisTaskStore.StoredTaskReply(.array([Self.bulk("queued")])) }
        #expect(throws: RedisClientError.self) { try RedisTaskStore.StoredTaskReply(Self.bulk("queued")) }
    }

    @Test func claimedTasksAreReadOneAfterTheOther() throws {
        typealias Field = RedisTaskStore.ClaimedTaskReply.Field
        func task(_ id: String, token: Int64, attempt: Int64) -> [RESPValue] {
            let values: [Field: RESPValue] = [
                .id: Self.bulk(id), .token: .integer(token), .attempt: .integer(attempt), .model: Self.bulk("m"),
                .maxTokens: Self.bulk("16"), .temperature: Self.bulk("0"), .messages: Self.bulk(#"[{"role":"system","content":"s"}]"#),
            ]
            return Field.allCases.map { values[$0] ?? .null }
        }
        let claimed = try RedisTaskStore.ClaimedTaskReply.tasks(in: .array(task("a", token: 5, attempt: 1) + task("b", token: 9, attempt: 3)))
        #expect(claimed.map(\.id) == ["a", "b"])
        #expect(claimed.map(\.lease.token) == [5, 9] && claimed.map(\.attempt) == [1, 3])
        #expect(claimed[1].request.messages == [ChatMessage(role: "system", content: "s")] && claimed[1].request.maxTokens == 16)
        #expect(throws: RedisClientError.self) {
            try RedisTaskStore.ClaimedTaskReply.tasks(in: .array(task("a", token: 5, attempt: 1).dropLast()))
        }
    }
}
