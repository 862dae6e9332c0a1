import Foundation
import PromptlineCore
import RedisClient

/// The scripts' answers that hold several values of a task, read by name: each reply names
/// its values once, in the order its script answers them.
extension RedisTaskStore {
    /// One task as ``Scripts/read`` answers it: the values of its hash fields, in the order of
    /// ``Field`` (the script asks `HMGET` for exactly these).
    struct StoredTaskReply {
        /// The task hash fields read, in the order they are answered (the key layout is in
        /// ``Scripts``).
        enum Field: Int, CaseIterable {
            case status, priority, model, maxTokens, temperature, prompt, messages, metadata, result, error
            case progress, attempts, queuedAt, startedAt, finishedAt
            case promptTokens, completionTokens, totalTokens, expiresAt, owner

            /// The field's name in the task hash.
            var key: String {
                switch self {
                case .status: "st"
                case .priority: "pr"
                case .model: "model"
                case .maxTokens: "mt"
                case .temperature: "temp"
                case .prompt: "p"
                case .messages: "msgs"
                case .metadata: "meta"
                case .result: "res"
                case .error: "err"
                case .progress: "prog"
                case .attempts: "att"
                case .queuedAt: "q"
                case .startedAt: "s"
                case .finishedAt: "f"
                case .promptTokens: "pt"
                case .completionTokens: "ct"
                case .totalTokens: "tt"
                case .expiresAt: "exp"
                case .owner: "own"
                }
            }

            /// Where Lua finds the field in the `HMGET` answer (Lua counts from 1).
            var luaIndex: Int { rawValue + 1 }
        }

        private let values: [RESPValue]

        init(_ reply: RESPValue) throws {
            guard let values = reply.elements, values.count == Field.allCases.count else {
                throw RedisTaskStore.unreadable("read")
            }
            self.values = values
        }

        subscript(_ field: Field) -> RESPValue { values[field.rawValue] }

        func record(id: String) throws -> TaskRecord {
            func int(_ field: Field) -> Int? { self[field].int64.map(Int.init) }
            func date(_ field: Field) -> Date? { self[field].int64.map { Date(timeIntervalSince1970: Double($0) / 1_000) } }
            return TaskRecord(
                id: id,
                status: self[.status].string.flatMap(TaskStatus.init(rawValue:)) ?? .error,
                request: try RedisTaskStore.request(
                    model: self[.model], maxTokens: self[.maxTokens], temperature: self[.temperature],
                    prompt: self[.prompt], messages: self[.messages]
                ),
                priority: int(.priority) ?? 0,
                metadata: try StoredRequest.metadata(json: self[.metadata].string),
                result: self[.result].string,
                error: self[.error].string,
                progress: int(.progress) ?? 0,
                attempts: int(.attempts) ?? 0,
                queuedAt: date(.queuedAt) ?? Date(timeIntervalSince1970: 0),
                startedAt: date(.startedAt),
                finishedAt: date(.finishedAt),
                usage: int(.totalTokens).map {
                    TokenUsage(promptTokens: int(.promptTokens) ?? 0, completionTokens: int(.completionTokens) ?? 0, totalTokens: $0)
                },
                owner: self[.owner].string
            )
        }
    }

    /// One task as ``Scripts/claim`` answers it: ``Field``'s values, in that order.
    struct ClaimedTaskReply {
        enum Field: Int, CaseIterable {
            case id, token, attempt, model, maxTokens, temperature, prompt, messages
        }

        private let values: ArraySlice<RESPValue>

        subscript(_ field: Field) -> RESPValue { values[values.startIndex + field.rawValue] }

        /// The tasks of a claim script's answer, one after the other.
        static func tasks(in reply: RESPValue) throws -> [ClaimedTask] {
            let values = try RedisTaskStore.elements(reply)
            let width = Field.allCases.count
            guard values.count % width == 0 else { throw RedisTaskStore.unreadable("claim") }
            return try stride(from: 0, to: values.count, by: width).map { start in
                try ClaimedTaskReply(values: values[start..<start + width]).task()
            }
        }

        func task() throws -> ClaimedTask {
            guard let id = self[.id].string, let token = self[.token].int64, let attempt = self[.attempt].int64 else {
                throw RedisTaskStore.unreadable("claim")
            }
            return ClaimedTask(
                lease: TaskLease(id: id, token: token),
                request: try RedisTaskStore.request(
                    model: self[.model], maxTokens: self[.maxTokens], temperature: self[.temperature],
                    prompt: self[.prompt], messages: self[.messages]
                ),
                attempt: Int(attempt)
            )
        }
    }

    private static func request(
        model: RESPValue, maxTokens: RESPValue, temperature: RESPValue, prompt: RESPValue, messages: RESPValue
    ) throws -> ChatRequest {
        try StoredRequest.request(
            model: model.string ?? "",
            maxTokens: maxTokens.int64.map(Int.init) ?? 0,
            temperature: temperature.string.flatMap(Double.init) ?? 0,
            prompt: prompt.string,
            json: messages.string
        )
    }
}
