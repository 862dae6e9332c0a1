import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PromptlineCore
@testable import PromptlineServer
import PromptlineSQLite
import Testing

/// The task routes in process, on a real embedded store, with no workers running.
@Suite struct TaskRoutesTests {
    struct Fixture: Sendable {
        let store: SQLiteTaskStore
        let app: Application<RouterResponder<PromptlineRequestContext>>
        let directory: String
    }

    func withApp(maxBodySize: Int = 1 << 20, _ body: @escaping @Sendable (Fixture, any TestClientProtocol) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("promptline-routes-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logger = Logger(label: "test")
        let store = try await SQLiteTaskStore.open(.init(directory: directory), logger: logger)
        var settings = ServerSettings()
        settings.workers = 0
        settings.maxBodySize = maxBodySize
        let pool = WorkerPool(store: store, backend: NoBackend(), gate: RateLimitGate(), configuration: .init(workers: 0), logger: logger)
        let app = Application(router: PromptlineApp.buildRouter(settings: settings, store: store, pool: pool))
        let fixture = Fixture(store: store, app: app, directory: directory)
        try await app.test(.router) { client in try await body(fixture, client) }
        try await store.close()
    }

    struct NoBackend: ChatBackend {
        func complete(_ request: ChatRequest, progress: @escaping @Sendable (Int) -> Void) async throws -> TaskResult {
            throw UpstreamError(.connectionFailed, message: "no upstream in this test")
        }
    }

    func post(_ client: any TestClientProtocol, _ json: String) async throws -> TestResponse {
        try await client.execute(uri: "/api/tasks", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: json))
    }

    func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
    }

    @Test func submitAnswers202WithOneIDPerPromptInOrder() async throws {
        try await withApp { fixture, client in
            let response = try await post(client, #"{"prompts": ["one", {"prompt": "two", "max_tokens": 5}, {"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "three"}]}], "priority": 3, "model": "m1"}"#)
            #expect(response.status == .accepted)
            let body = try json(response)
            #expect(body["status"] as? String == "queued")
            let ids = try #require(body["task_ids"] as? [String])
            #expect(ids.count == 3 && Set(ids).count == 3)
            let records = try await fixture.store.tasks(ids: ids)
            #expect(records[ids[0]]?.request.messages == [ChatMessage(role: "user", content: "one")])
            #expect(records[ids[1]]?.request.maxTokens == 5)
            #expect(records[ids[2]]?.request.messages.count == 2)
            #expect(records.values.allSatisfy { $0.priority == 3 && $0.request.model == "m1" })
        }
    }

    @Test(arguments: [
        (#"{"prompts": []}"#, 400, "prompts must be a non-empty list"),
        (#"{}"#, 400, "prompts must be a non-empty list"),
        (#"{"prompts": "#, 400, "not valid JSON"),
        (#"{"prompts": [1]}"#, 422, "prompts[0]"),
        (#"{"prompts": ["a", {"prompt": 5}]}"#, 422, "prompts[1].prompt"),
        (#"{"prompts": ["a"], "max_tokens": "many"}"#, 422, "max_tokens"),
        (#"{"prompts": ["a"], "temperature": 9}"#, 422, "temperature must be between 0 and 2"),
        (#"{"prompts": [{"messages": [{"role": "wizard", "content": "x"}]}]}"#, 422, "prompts[0].messages[0].role"),
        (#"{"prompts": [{"prompt": "a", "messages": [{"role": "user", "content": "b"}]}]}"#, 422, "give one"),
        (#"{"prompts": [""]}"#, 422, "prompts[0] is empty"),
        (#"[1, 2]"#, 422, "body"),
    ])
    func badInputGetsAClearErrorAndStoresNothing(body: String, status: Int, message: String) async throws {
        try await withApp { fixture, client in
            let response = try await post(client, body)
            #expect(response.status.code == status)
            let detail = try #require(try json(response)["detail"] as? String)
            #expect(detail.contains(message), "detail was: \(detail)")
            #expect(try await fixture.store.counts() == QueueCounts())
        }
    }

    @Test func anOversizedBodyIs413() async throws {
        try await withApp(maxBodySize: 2_048) { fixture, client in
            let prompts = Array(repeating: "\"\(String(repeating: "x", count: 100))\"", count: 50).joined(separator: ",")
            let response = try await post(client, #"{"prompts": [\#(prompts)]}"#)
            #expect(response.status == .contentTooLarge)
            #expect(try json(response)["detail"] as? String ?? "" == "request body is larger than the limit of 2048 bytes (--max-body-size / PROMPTLINE_MAX_BODY_SIZE)")
            #expect(try await fixture.store.counts() == QueueCounts())
        }
    }

    @Test func readingTasksAnswersEachIDOrNotFound() async throws {
        try await withApp { fixture, client in
            let ids = try #require(try json(try await post(client, #"{"prompts": ["a", "b"]}"#))["task_ids"] as? [String])
            let response = try await client.execute(uri: "/api/tasks?task_ids=\(ids[0]),nope,\(ids[1])", method: .get)
            #expect(response.status == .ok)
            let body = try json(response)
            #expect((body[ids[0]] as? [String: Any])?["status"] as? String == "queued")
            #expect((body[ids[0]] as? [String: Any])?["progress"] as? String == "0")
            #expect((body["nope"] as? [String: Any])?["status"] as? String == "not_found")
            let detail = try json(try await client.execute(uri: "/api/tasks/\(ids[1])", method: .get))
            #expect(detail["id"] as? String == ids[1])
            #expect(detail["attempts"] as? Int == 0)
            #expect(detail["queued_at"] is String)
            let missing = try await client.execute(uri: "/api/tasks/nope", method: .get)
            #expect(missing.status == .notFound)
            #expect((try json(missing)["detail"] as? String)?.contains("not found") == true)
        }
    }

    @Test func cancelStopsAQueuedTaskAndRefusesAFinishedOne() async throws {
        try await withApp { fixture, client in
            let ids = try #require(try json(try await post(client, #"{"prompts": ["a"]}"#))["task_ids"] as? [String])
            let cancelled = try await client.execute(uri: "/api/tasks/\(ids[0])", method: .delete)
            #expect(cancelled.status == .ok)
            #expect(try await fixture.store.tasks(ids: ids)[ids[0]]?.status == .cancelled)
            let again = try await client.execute(uri: "/api/tasks/\(ids[0])", method: .delete)
            #expect(again.status == .conflict)
            #expect(try await client.execute(uri: "/api/tasks/unknown", method: .delete).status == .notFound)
        }
    }

    @Test func theSameIdempotencyKeyQueuesNothingNew() async throws {
        try await withApp { fixture, client in
            let first = try json(try await post(client, #"{"prompts": ["a", "b"], "idempotency_key": "k1"}"#))
            let second = try await post(client, #"{"prompts": ["a", "b"], "idempotency_key": "k1"}"#)
            #expect(second.status == .ok)
            #expect(try json(second)["task_ids"] as? [String] == first["task_ids"] as? [String])
            #expect(try await fixture.store.counts().queued == 2)
        }
    }

    @Test func unknownRoutesAnswerTheDetailShape() async throws {
        try await withApp { _, client in
            let response = try await client.execute(uri: "/api/nothing", method: .get)
            #expect(response.status == .notFound)
            #expect(try json(response)["detail"] is String)
        }
    }
}
