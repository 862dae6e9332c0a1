import Foundation
import Logging
@testable import PromptlineServer
import Testing

@Suite struct DeferredMetadataLogHandlerTests {
    typealias Written = JSONLogHandlerTests.Written

    func logger(_ written: Written, provider: Logger.MetadataProvider? = nil) -> Logger {
        var logger = Logger(label: "promptline.test") { label in
            DeferredMetadataLogHandler(JSONLogHandler(label: label, metadataProvider: provider) { written.append($0) })
        }
        logger.logLevel = .info
        return logger
    }

    @Test func theLoggersMetadataReachesTheLineAndTheEventsWins() throws {
        let written = Written()
        var logger = logger(written)
        logger[metadataKey: "request_id"] = "r-1"
        logger[metadataKey: "task_id"] = "t-1"
        logger.info("one")
        logger.info("two", metadata: ["task_id": "t-2", "error": "boom"])
        logger[metadataKey: "task_id"] = nil
        logger.info("three")
        let lines = try written.objects()
        #expect(lines.count == 3)
        #expect(lines[0]["request_id"] as? String == "r-1" && lines[0]["task_id"] as? String == "t-1")
        #expect(lines[1]["task_id"] as? String == "t-2" && lines[1]["error"] as? String == "boom")
        #expect(lines[2]["task_id"] == nil && lines[2]["request_id"] as? String == "r-1")
    }

    @Test func theProviderSitsBetweenTheLoggerAndTheEvent() throws {
        let written = Written()
        let provider = Logger.MetadataProvider { ["trace": "provided", "request_id": "provided"] }
        var logger = logger(written, provider: provider)
        logger[metadataKey: "request_id"] = "own"
        logger[metadataKey: "trace"] = "own"
        logger.info("line", metadata: ["trace": "event"])
        let line = try #require(try written.objects().first)
        #expect(line["request_id"] as? String == "provided")
        #expect(line["trace"] as? String == "event")
    }

    @Test func theLevelIsTheWrappedHandlers() throws {
        let written = Written()
        var logger = logger(written)
        logger.debug("hidden")
        logger.logLevel = .debug
        logger.debug("shown")
        #expect(try written.objects().map { $0["message"] as? String } == ["shown"])
    }
}
