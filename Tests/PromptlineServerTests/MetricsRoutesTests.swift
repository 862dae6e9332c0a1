import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import PromptlineServer
import Testing

/// `/metrics`, the HTTP middleware's labels and request ids, in process.
@Suite struct MetricsRoutesTests {
    let routes = TaskRoutesTests()
    let requestID = HTTPField.Name("X-Request-Id")!

    func scrape(_ client: any TestClientProtocol) async throws -> PrometheusText {
        let response = try await client.execute(uri: "/metrics", method: .get)
        #expect(response.status == .ok)
        #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
        return try PrometheusText(String(buffer: response.body))
    }

    func submit(_ client: any TestClientProtocol, _ prompt: String) async throws -> String {
        let response = try await routes.post(client, #"{"prompts": ["\#(prompt)"]}"#)
        #expect(response.status == .accepted)
        return try #require((try routes.json(response)["task_ids"] as? [String])?.first)
    }

    @Test func requestsAreCountedByRouteTemplateMethodAndStatus() async throws {
        try await routes.withApp { _, client in
            var ids: [String] = []
            for index in 0..<3 { ids.append(try await submit(client, "prompt \(index)")) }
            for id in ids[0..<2] { #expect(try await client.execute(uri: "/api/tasks/\(id)", method: .get).status == .ok) }
            #expect(try await client.execute(uri: "/api/tasks/no-such-task", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/api/tasks/\(ids[2])", method: .delete).status == .ok)
            #expect(try await client.execute(uri: "/nowhere/\(ids[0])", method: .get).status == .notFound)
            _ = try await client.execute(uri: "/api/tasks", method: HTTPRequest.Method("BREW")!)

            let metrics = try await scrape(client)
            let requests = "promptline_http_requests_total"
            #expect(metrics.types[requests] == "counter")
            #expect(metrics.value(requests, ["method": "POST", "route": "/api/tasks", "status": "202"]) == 3)
            #expect(metrics.value(requests, ["method": "GET", "route": "/api/tasks/{id}", "status": "200"]) == 2)
            #expect(metrics.value(requests, ["method": "GET", "route": "/api/tasks/{id}", "status": "404"]) == 1)
            #expect(metrics.value(requests, ["method": "DELETE", "route": "/api/tasks/{id}", "status": "200"]) == 1)
            #expect(metrics.value(requests, ["method": "GET", "route": "unmatched", "status": "404"]) == 1)
            #expect(metrics.value(requests, ["method": "other", "route": "unmatched", "status": "404"]) == 1)
            #expect(metrics.samples(requests).reduce(0) { $0 + $1.value } == 9, "the scrape itself is counted after it answers")
            let labelValues = metrics.samples.flatMap { $0.labels.values }
            #expect(!labelValues.contains { value in ids.contains { value.contains($0) } }, "a label carries a task id")

            #expect(metrics.types["promptline_http_request_duration_seconds"] == "histogram")
            #expect(metrics.value("promptline_http_request_duration_seconds_count", ["method": "POST", "route": "/api/tasks"]) == 3)
            #expect(metrics.value("promptline_tasks_finished_total", ["status": "cancelled"]) == 1)
            #expect(metrics.value("promptline_tasks_finished_total", ["status": "completed"]) == 0)
            #expect(metrics.value("promptline_queue_tasks", ["status": "queued"]) == 2)
            #expect(metrics.value("promptline_queue_tasks", ["status": "cancelled"]) == 1)
            #expect(metrics.value("promptline_store_up") == 1)
            #expect(metrics.value("promptline_workers") == 0 && metrics.value("promptline_tasks_in_flight") == 0)
        }
    }

    @Test func eachAppCountsIntoItsOwnRegistry() async throws {
        try await routes.withApp { _, first in
            try await routes.withApp { _, second in
                _ = try await submit(first, "only in the first app")
                let requests = "promptline_http_requests_total"
                #expect(try await scrape(first).value(requests, ["method": "POST", "route": "/api/tasks", "status": "202"]) == 1)
                #expect(try await scrape(second).samples(requests).allSatisfy { $0.labels["route"] == "/metrics" })
            }
        }
    }

    @Test func aSaneRequestIDIsAnsweredAndAnotherIsReplaced() async throws {
        try await routes.withApp { _, client in
            let sane = "req-42_a.b:c"
            let kept = try await client.execute(uri: "/health/live", method: .get, headers: [requestID: sane])
            #expect(kept.headers[requestID] == sane)

            for insane in ["two words", String(repeating: "x", count: 129), "", "new\u{7F}line"] {
                let replaced = try await client.execute(uri: "/health/live", method: .get, headers: [requestID: insane])
                let id = try #require(replaced.headers[requestID])
                #expect(id != insane && RequestIDMiddleware<BasicRequestContext>.sane(id) == id)
            }

            let first = try await client.execute(uri: "/health/live", method: .get).headers[requestID]
            let second = try await client.execute(uri: "/health/live", method: .get).headers[requestID]
            #expect(first != nil && second != nil && first != second)

            let failed = try await client.execute(uri: "/api/tasks/no-such-task", method: .get, headers: [requestID: sane])
            #expect(failed.status == .notFound)
            #expect(failed.headers[requestID] == sane, "an error answer carries the id too")
        }
    }
}
