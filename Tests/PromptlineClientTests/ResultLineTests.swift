import PromptlineClient
import Testing

@Suite struct ResultLineTests {
    @Test func oneLinePerInputLineInOrder() {
        let input = [InputLine(number: 2, customID: "x", prompt: .string("a")), InputLine(number: 3, prompt: .string("b"))]
        let lines = ResultLine.lines(
            for: input, taskIDs: ["t1", "t2"],
            summaries: ["t1": TaskSummary(status: "completed", result: "echo: a/b", progress: "100")])
        #expect(lines.map(\.json) == [
            #"{"line":2,"custom_id":"x","task_id":"t1","status":"completed","result":"echo: a/b","error":null}"#,
            #"{"line":3,"task_id":"t2","status":"not_found","result":null,"error":null}"#,
        ])
    }
}
