import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PromptlineCore
@testable import PromptlineServer
import PromptlineSQLite
import Testing

/// `GET /api/tasks/events` and the submission records in process, on a real embedded
/// store with no workers: the tests finish tasks by cancelling them.
@Suite struct EventRoutesTests {
    func withApp(
        webhookSecret: String? = nil,
        _ body: @escaping @Sendable (SQLiteTaskStore, any TestClientProtocol) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("promptline-events-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logger = Logger(label: "test")
        let store = try await SQLiteTaskStore.open(.init(directory: directory), logger: logger)
        var settings = ServerSettings()
        settings.workers = 0
        settings.webhookSecret = webhookSecret
        // The receivers of these tests are on loopback.
        settings.webhookAllowHosts = try WebhookAddressPolicy(allowing: "127.0.0.1")
        let pool = WorkerPool(store: store, backend: TaskRoutesTests.NoBackend(), gate: RateLimitGate(), configuration: .init(workers: 0), logger: logger)
        let app = Application(router: PromptlineApp.buildRouter(settings: settings, store: store, pool: pool, documents: store))
        try await app.test(.router) { client in try await body(store, client) }
        try await store.close()
    }

    /// The task routes' helpers: `post` submits, `json` reads an object.
    let routes = TaskRoutesTests()

    @Test func aSubmissionHasABatchWhoseStreamEndsWithDone() async throws {
        try await withApp { store, client in
            let response = try await routes.post(client, #"{"prompts": ["one", "two"], "idempotency_key": "k1"}"#)
            #expect(response.status == .accepted)
            let body = try routes.json(response)
            let ids = try #require(body["task_ids"] as? [String])
            let batchID = try #require(body["batch_id"] as? String)
            #expect(batchID == Submissions.batchID(of: ids))

            let again = try routes.json(try await routes.post(client, #"{"prompts": ["one", "two"], "idempotency_key": "k1"}"#))
            #expect(again["batch_id"] as? String == batchID && again["task_ids"] as? [String] == ids)

            for id in ids { _ = try await store.cancel(id: id) }
            let stream = try await client.execute(uri: "/api/tasks/events?batch_id=\(batchID)", method: .get)
            #expect(stream.status == .ok)
            #expect(stream.headers[.contentType] == "text/event-stream")
            let (events, _) = try TaskEventStreamTests.parse(stream.body)
            #expect(events.map { $0.0 } == ["status", "status", "done"])
            #expect(events.prefix(2).map { $0.1["task_id"] as? String } == ids)
            #expect(events.prefix(2).allSatisfy { $0.1["status"] as? String == "cancelled" })
            #expect(events.last?.1 as? [String: Int] == ["completed": 0, "error": 0, "cancelled": 2, "not_found": 0])
        }
    }

    @Test func taskIDsStreamNamesUnknownOnesNotFound() async throws {
        try await withApp { store, client in
            let ids = try #require(try routes.json(try await routes.post(client, #"{"prompts": ["one"]}"#))["task_ids"] as? [String])
            _ = try await store.cancel(id: ids[0])
            let stream = try await client.execute(uri: "/api/tasks/events?task_ids=nope,\(ids[0])", method: .get)
            let (events, _) = try TaskEventStreamTests.parse(stream.body)
            #expect(events.map { $0.1["status"] as? String } == ["not_found", "cancelled", nil])
            #expect(events.last?.1 as? [String: Int] == ["completed": 0, "error": 0, "cancelled": 1, "not_found": 1])
        }
    }

    @Test(arguments: [
        ("/api/tasks/events", HTTPResponse.Status.badRequest, "task_ids"),
        ("/api/tasks/events?task_ids=,,", .badRequest, "task_ids is empty"),
        ("/api/tasks/events?task_ids=a&batch_id=b", .badRequest, "not both"),
        ("/api/tasks/events?batch_id=0123", .notFound, "batch 0123 not found"),
    ])
    func badRequestsSayWhatIsWrong(uri: String, status: HTTPResponse.Status, message: String) async throws {
        try await withApp { _, client in
            let response = try await client.execute(uri: uri, method: .get)
            #expect(response.status == status)
            #expect((try routes.json(response)["detail"] as? String)?.contains(message) == true)
        }
    }

    @Test func aStreamNamesABoundedNumberOfTasks() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("promptline-events-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await SQLiteTaskStore.open(.init(directory: directory), logger: Logger(label: "test"))
        let router = Router(context: PromptlineRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        EventsController(store: store, submissions: nil, maxIDsPerStream: 2).addRoutes(to: router)
        try await Application(router: router).test(.router) { client in
            let response = try await client.execute(uri: "/api/tasks/events?task_ids=a,b,c", method: .get)
            #expect(response.status == .badRequest)
            #expect((try routes.json(response)["detail"] as? String)?.contains("at most 2 tasks per event stream; this one names 3") == true)
        }
        try await store.close()
    }

    @Test func webhookURLIsRefusedWithoutASecretAndNothingIsStored() async throws {
        try await withApp { store, client in
            let response = try await routes.post(client, #"{"prompts": ["one"], "webhook_url": "http://127.0.0.1:9/hook"}"#)
            #expect(response.status == .unprocessableContent)
            #expect((try routes.json(response)["detail"] as? String)?.contains("--webhook-secret") == true)
            #expect(try await store.counts().queued == 0)
            #expect(try await store.documents(collection: Submissions.collection, after: nil, limit: 10).isEmpty)
        }
    }

    @Test func aWebhookIsRecordedAsPending() async throws {
        try await withApp(webhookSecret: "s3cret") { store, client in
            let body = try routes.json(try await routes.post(client, #"{"prompts": ["one"], "webhook_url": "http://127.0.0.1:9/hook"}"#))
            let batchID = try #require(body["batch_id"] as? String)
            let submissions = Submissions(documents: store, retention: .seconds(60))
            let (record, _) = try #require(try await submissions.submission(batchID))
            #expect(record.taskIDs == body["task_ids"] as? [String])
            #expect(record.webhook?.url == "http://127.0.0.1:9/hook" && record.webhook?.state == .pending)
            #expect(try await submissions.pendingWebhookIDs() == [batchID])
            let plain = try routes.json(try await routes.post(client, #"{"prompts": ["two"]}"#))
            #expect(try await submissions.submission(try #require(plain["batch_id"] as? String))?.record.webhook == nil)
            #expect(try await submissions.pendingWebhookIDs() == [batchID])
        }
    }

    @Test func aWebhookURLInsideIsRefusedAndNothingIsStored() async throws {
        try await withApp(webhookSecret: "s3cret") { store, client in
            let response = try await routes.post(client, #"{"prompts": ["one"], "webhook_url": "http://10.0.0.1/hook"}"#)
            #expect(response.status == .unprocessableContent)
            #expect(try routes.json(response)["detail"] as? String
                == "webhook_url: 10.0.0.1 is a private address; allow it with --webhook-allow-hosts")
            #expect(try await store.counts().queued == 0)
            #expect(try await store.documents(collection: Submissions.collection, after: nil, limit: 10).isEmpty)
        }
    }
}
