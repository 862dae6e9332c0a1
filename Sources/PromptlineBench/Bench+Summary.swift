import AsyncHTTPClient
import Foundation
import NIOCore
import PromptlineClient

/// The summary figure: a long text document summarised against a 0 ms mock, and where the
/// time went (extraction and cutting, the map calls, the combining).
extension Bench {
    func summary(redis: BenchRedis?, progress: (String) -> Void) async throws -> [Figure] {
        let mock = try startMock(latencyMs: 0)
        defer { mock.stop() }
        let document = Self.document(pages: configuration.summaryPages)
        var rates: [Double] = []
        var phases: [[Double]] = [[], [], []]
        var chunkCounts: [Int] = []
        for run in 1...configuration.runs {
            let server = try startServer(name: "summary-\(run)", upstreamPort: mock.port, workers: configuration.drainWorkers, redis: redis)
            defer { server.process.stop() }
            let base = "http://127.0.0.1:\(server.port)"
            let fileID = try await upload(document, filename: "long.txt", to: base)
            let start = ContinuousClock.now
            let summaryID = try await postJSON(
                "\(base)/api/summaries",
                body: ["file_ids": [fileID], "max_tokens": 30, "max_parallel": configuration.drainWorkers] as [String: Any]
            )["summary_id"] as? String ?? ""
            var view: [String: Any] = [:]
            while true {
                view = try await getJSON("\(base)/api/summaries/\(summaryID)")
                let status = view["status"] as? String ?? ""
                if ["completed", "error", "cancelled"].contains(status) { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            let took = (ContinuousClock.now - start).seconds
            guard view["status"] as? String == "completed" else { throw BenchError("the summary ended \(view["status"] ?? "?"): \(view["error"] ?? "")") }
            let chunks = (view["chunks"] as? [String: Any])?["total"] as? Int ?? 0
            chunkCounts.append(chunks)
            rates.append(Double(chunks) / took)
            // Phases from the tasks' own times: until the first chunk was queued (extracting
            // and cutting), until the last chunk finished (map), until the summary finished.
            var firstQueued = Double.infinity
            var lastFinished = 0.0
            for index in 0..<chunks {
                let detail = try await getJSON("\(base)/api/tasks/summary:\(summaryID):0:c0.\(index)")
                firstQueued = min(firstQueued, Self.seconds(detail["queued_at"]))
                lastFinished = max(lastFinished, Self.seconds(detail["finished_at"]))
            }
            let created = Double(view["created_at"] as? Int ?? 0)
            let root = try await getJSON("\(base)/api/tasks/summary:\(summaryID)")
            let finished = Self.seconds(root["finished_at"])
            phases[0].append(max(0, firstQueued - created))
            phases[1].append(lastFinished - firstQueued)
            phases[2].append(finished - lastFinished)
            progress("summary run \(run): \(chunks) chunks in \(String(format: "%.2f", took)) s = \(Int(rates.last!)) chunks/s")
        }
        let setup = "\(configuration.summaryPages)-page text document (\(document.count / 1_000_000) MB, \(chunkCounts.first ?? 0) chunks of 2,000 tokens), 0 ms mock, \(configuration.drainWorkers) workers and max_parallel, \(storeSetup(redis))"
        return [
            Figure(name: "summary throughput", unit: "chunks/s", runs: rates, setup: setup),
            Figure(name: "summary: extract and cut", unit: "s", runs: phases[0], higherIsBetter: false, setup: "from the summary's creation (1 s resolution) to its first chunk queued", decimals: 2),
            Figure(name: "summary: map", unit: "s", runs: phases[1], higherIsBetter: false, setup: "first chunk queued to last chunk summarised", decimals: 2),
            Figure(name: "summary: reduce", unit: "s", runs: phases[2], higherIsBetter: false, setup: "last chunk summarised to the summary finished", decimals: 2),
        ]
    }

    /// `pages` pages of ~3,000 characters of text, in paragraphs, pages apart by form feeds.
    static func document(pages: Int) -> Data {
        var text = ""
        text.reserveCapacity(pages * 3_100)
        for page in 0..<pages {
            for paragraph in 0..<5 {
                text += "Page \(page), paragraph \(paragraph). "
                for sentence in 0..<6 {
                    text += "Sentence \(sentence) of this paragraph says something about item \(page * 31 + paragraph * 7 + sentence) in plain words. "
                }
                text += "\n\n"
            }
            text += "\u{0C}"
        }
        return Data(text.utf8)
    }

    private static func seconds(_ timestamp: Any?) -> Double {
        guard let text = timestamp as? String else { return 0 }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)?.timeIntervalSince1970 ?? 0
    }

    /// Uploads a document as `promptline summarize` does.
    func upload(_ data: Data, filename: String, to base: String) async throws -> String {
        try await TaskClient.with(try TaskClient.Configuration(server: base)) { client in
            try await client.uploadDocument(data, filename: filename)
        }
    }

    func postJSON(_ url: String, body: [String: Any]) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        return try await json(of: request)
    }

    func getJSON(_ url: String) async throws -> [String: Any] {
        try await json(of: HTTPClientRequest(url: url))
    }

    private func json(of request: HTTPClientRequest) async throws -> [String: Any] {
        let response = try await http.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 64 << 20)
        guard (200..<300).contains(response.status.code),
              let object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        else { throw BenchError("\(request.url) answered \(response.status.code): \(String(buffer: body).prefix(300))") }
        return object
    }
}
