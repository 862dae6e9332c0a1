import Foundation
import Logging
@testable import PromptlineServer
import Synchronization
import Testing

@Suite struct JSONLogHandlerTests {
    /// What a handler wrote, line by line.
    final class Written: Sendable {
        private let text = Mutex("")
        func append(_ line: String) { text.withLock { $0 += line } }
        var lines: [String] { text.withLock { $0 }.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }

        /// Every line but the empty one after the last newline, each parsed as a JSON object.
        func objects() throws -> [[String: Any]] {
            let lines = self.lines
            #expect(lines.last == "", "the output must end with a newline")
            return try lines.dropLast().map { line in
                try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
            }
        }
    }

    func logger(_ written: Written, provider: Logger.MetadataProvider? = nil) -> Logger {
        var logger = Logger(label: "promptline.test") { label in
            JSONLogHandler(label: label, metadataProvider: provider) { written.append($0) }
        }
        logger.logLevel = .trace
        return logger
    }

    @Test func eachEventIsOneJSONObjectOnOneLine() throws {
        let written = Written()
        var logger = logger(written)
        logger[metadataKey: "task_id"] = "3f2c-task"
        logger.info("task failed", metadata: ["attempt": "2", "error_kind": "timeout"])
        logger.warning("a message \"quoted\"\nover two lines\twith a tab and \u{1} a control character")
        logger.debug("nested", metadata: ["upstream": ["host": "127.0.0.1", "ports": ["80", "443"]]])

        let objects = try written.objects()
        #expect(objects.count == 3)
        let first = objects[0]
        #expect(first["message"] as? String == "task failed")
        #expect(first["level"] as? String == "info")
        #expect(first["label"] as? String == "promptline.test")
        #expect(first["task_id"] as? String == "3f2c-task")
        #expect(first["attempt"] as? String == "2" && first["error_kind"] as? String == "timeout")
        let time = try #require(first["time"] as? String)
        #expect(time.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "time: \(time)")

        #expect(objects[1]["message"] as? String == "a message \"quoted\"\nover two lines\twith a tab and \u{1} a control character")
        #expect(objects[1]["task_id"] as? String == "3f2c-task")
        let upstream = try #require(objects[2]["upstream"] as? [String: Any])
        #expect(upstream["host"] as? String == "127.0.0.1" && upstream["ports"] as? [String] == ["80", "443"])
    }

    @Test func metadataNeverHidesTheCoreFields() throws {
        let written = Written()
        logger(written).error("the real message", metadata: ["message": "from metadata", "level": "fake"])
        let object = try #require(try written.objects().first)
        #expect(object["message"] as? String == "the real message")
        #expect(object["level"] as? String == "error")
        #expect(object["metadata.message"] as? String == "from metadata")
        #expect(object["metadata.level"] as? String == "fake")
    }

    @Test func callMetadataWinsOverProvidedAndLoggerMetadata() throws {
        let written = Written()
        let provider = Logger.MetadataProvider { ["request_id": "from-provider", "trace": "t-1"] }
        var logger = logger(written, provider: provider)
        logger[metadataKey: "request_id"] = "from-logger"
        logger.info("one")
        logger.info("two", metadata: ["request_id": "from-call"])
        let objects = try written.objects()
        #expect(objects.map { $0["request_id"] as? String } == ["from-provider", "from-call"])
        #expect(objects.allSatisfy { $0["trace"] as? String == "t-1" })
    }

    /// The handler writes what it is given: keeping secrets out of log lines is the job of
    /// whoever logs (no setting, header or key is ever logged), not a filter here.
    @Test func valuesAreWrittenAsGiven() throws {
        let written = Written()
        logger(written).info("looks secret", metadata: ["value": "sk-live-abcdef"])
        #expect(try written.objects().first?["value"] as? String == "sk-live-abcdef")
    }

    @Test func timestampsAreUTCWithMilliseconds() {
        #expect(JSONLogHandler.timestamp(Date(timeIntervalSince1970: 1_000_000_000.123)) == "2001-09-09T01:46:40.123Z")
        #expect(JSONLogHandler.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
    }

    @Test func settingsNeverPrintTheUpstreamKeyOrTheRedisPassword() throws {
        let settings = try ServerSettings.resolve(
            flags: [.upstreamAPIKey: "sk-canary-123", .redisURL: "redis://:hunter2-canary@cache:6380/1"], environment: [:]
        ).get()
        var dumped = ""
        dump(settings, to: &dumped)
        for text in ["\(settings)", String(reflecting: settings), dumped] {
            #expect(!text.contains("sk-canary-123") && !text.contains("hunter2-canary"), "\(text)")
            #expect(text.contains("upstream-api-key=set") || text.contains("upstream-api-key: \"set\""), "\(text)")
            #expect(text.contains("cache:6380"), "\(text)")
        }
    }

    @Test(arguments: [("json", ServerSettings.LogFormat.json), ("JSON", .json), ("text", .text)])
    func logFormatIsASetting(raw: String, format: ServerSettings.LogFormat) throws {
        #expect(try ServerSettings.resolve(flags: [:], environment: ["PROMPTLINE_LOG_FORMAT": raw]).get().logFormat == format)
        #expect(try ServerSettings.resolve(flags: [:], environment: [:]).get().logFormat == .text)
    }

    @Test func anUnknownLogFormatIsRefused() {
        guard case .failure(let error) = ServerSettings.resolve(flags: [.logFormat: "xml"], environment: [:]) else {
            Issue.record("--log-format xml was accepted")
            return
        }
        #expect(error.problems == ["--log-format: 'xml' is not a log format (text, json)"])
    }
}
