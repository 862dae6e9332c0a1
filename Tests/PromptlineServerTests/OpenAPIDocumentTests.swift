import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import OpenAIUpstream
import PromptlineCore
@testable import PromptlineServer
import PromptlineSQLite
import Testing

/// `/openapi.json` against the router: every route registered is documented, and every
/// documented operation is registered.
@Suite struct OpenAPIDocumentTests {
    static func document() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(DocsController.document.readableBytesView)) as? [String: Any])
    }

    /// "METHOD /path" for every operation of the document.
    static func documentedOperations() throws -> Set<String> {
        let paths = try #require(try document()["paths"] as? [String: [String: Any]])
        let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        return Set(paths.flatMap { path, item in item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" } })
    }

    /// "METHOD /path" for every route of a server with every feature on: the chat API and the Batch API.
    static func registeredRoutes() async throws -> Set<String> {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("promptline-openapi-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logger = Logger(label: "test")
        let store = try await SQLiteTaskStore.open(.init(directory: directory), logger: logger)
        let client = OpenAIClient(configuration: .init(baseURL: "http://127.0.0.1:9/v1"))
        let pool = WorkerPool(
            store: store, backend: TaskRoutesTests.NoBackend(), gate: RateLimitGate(), configuration: .init(workers: 0), logger: logger
        )
        let router = PromptlineApp.buildRouter(
            settings: ServerSettings(), store: store, pool: pool,
            upstream: .init(client: client, gate: RateLimitGate(), cache: ResponseCache(configuration: .init())),
            documents: store,
            batches: BatchService(ServerSettings(), tasks: store, documents: store, metrics: PromptlineMetrics(), logger: logger),
            summaries: SummaryService(ServerSettings(), store: store, documents: store, logger: logger)
        )
        let routes = Set(router.routes.map(\.description))
        try await client.shutdown()
        try await store.close()
        return routes
    }

    @Test func isAnOpenAPI31Document() throws {
        let document = try Self.document()
        #expect((document["openapi"] as? String)?.hasPrefix("3.1.") == true)
        let info = try #require(document["info"] as? [String: Any])
        #expect(info["title"] as? String == "Promptline")
    }

    @Test func everyRegisteredRouteIsDocumented() async throws {
        let routes = try await Self.registeredRoutes()
        #expect(routes.count >= 20, "the router should hold the whole API: \(routes.sorted())")
        let undocumented = routes.subtracting(try Self.documentedOperations())
        #expect(undocumented.isEmpty, "routes missing from openapi.json: \(undocumented.sorted())")
    }

    @Test func everyDocumentedOperationIsRegistered() async throws {
        let routes = try await Self.registeredRoutes()
        let missing = try Self.documentedOperations().subtracting(routes)
        #expect(missing.isEmpty, "documented operations with no route: \(missing.sorted())")
    }

    /// Every `$ref` names something the document holds.
    @Test func everyReferenceResolves() throws {
        let document = try Self.document()
        var references: [String] = []
        func walk(_ value: Any) {
            if let object = value as? [String: Any] {
                if let ref = object["$ref"] as? String { references.append(ref) }
                object.values.forEach(walk)
            } else if let array = value as? [Any] {
                array.forEach(walk)
            }
        }
        walk(document)
        #expect(!references.isEmpty)
        for ref in references {
            var node: Any? = document
            for key in ref.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(key)] }
            #expect(node != nil, "\(ref) does not resolve")
        }
    }

    @Test func bothAreServedOpenWithTheirContentTypes() async throws {
        try await TaskRoutesTests().withApp { _, client in
            let json = try await client.execute(uri: "/openapi.json", method: .get)
            #expect(json.status == .ok)
            #expect(json.headers[.contentType] == "application/json")
            let served = try JSONSerialization.jsonObject(with: Data(json.body.readableBytesView)) as? [String: Any]
            #expect(served?["openapi"] as? String == "3.1.0")

            let page = try await client.execute(uri: "/docs", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            let html = String(buffer: page.body)
            #expect(html.contains(#"fetch("/openapi.json")"#))
            #expect(!html.contains("http://") && !html.contains("https://"), "the page must need no other site")
        }
    }
}
