import Testing
@testable import PromptlineServer

@Suite struct IngestionTaskIDTests {
    @Test func stepAndCallIDsReadBack() throws {
        let step = IngestionTaskID.step("vs_abc", "file-123", generation: 2)
        #expect(step == "ingest:vs_abc:file-123:2")
        let parsed = try #require(IngestionTaskID(step))
        #expect(parsed.vectorStoreID == "vs_abc" && parsed.fileID == "file-123" && parsed.generation == 2 && parsed.group == nil)
        let call = try #require(IngestionTaskID(IngestionTaskID.call(below: step, group: 7)))
        #expect(call.group == 7 && call.stepID == step)
    }

    @Test(arguments: ["ingest:vs:file", "summary:vs:file:1", "ingest:vs:file:x", "ingest:vs:file:1:c0.1", "ingest:vs:file:1:e"])
    func otherIDsAreNotIngestion(_ id: String) {
        #expect(IngestionTaskID(id) == nil)
    }
}
