@testable import PromptlineClient
import Testing

@Suite struct TaskDetailTextTests {
    @Test func aLongResultIsCut() {
        #expect(TaskDetail.cut("abcdef", limit: 10) == "abcdef")
        #expect(TaskDetail.cut("abcdef", limit: 4) == "abcd… (2 more characters; --full shows all)")
        let many = (1...30).map(String.init).joined(separator: "\n")
        #expect(TaskDetail.cut(many, limit: 1_000).hasPrefix((1...20).map(String.init).joined(separator: "\n") + "… ("))
    }
}
