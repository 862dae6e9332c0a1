import Foundation
import PromptlineClient
import PromptlineCore
import Testing

@Suite struct InputFileTests {
    func read(_ text: String) throws -> InputFile {
        try InputFile(Data(text.utf8))
    }

    func object(_ line: InputLine) -> [String: JSONValue] {
        line.prompt.object ?? [:]
    }

    @Test func aStringIsThePrompt() throws {
        let file = try read(#""Say hi""#)
        #expect(file.lines == [InputLine(number: 1, prompt: .string("Say hi"))])
    }

    @Test func aPromptObjectIsSentAsItIsWithoutItsCustomID() throws {
        let file = try read(#"{"prompt": "hi", "model": "m", "max_tokens": 5, "temperature": 0.5, "metadata": {"k": "v"}, "priority": 3, "cache": false, "custom_id": "c1"}"#)
        let line = try #require(file.lines.first)
        #expect(line.customID == "c1")
        #expect(object(line) == [
            "prompt": .string("hi"), "model": .string("m"), "max_tokens": .number(5), "temperature": .number(0.5),
            "metadata": .object(["k": .string("v")]), "priority": .number(3), "cache": .bool(false),
        ])
    }

    @Test func aMessagesObjectKeepsItsMessages() throws {
        let messages: JSONValue = .array([
            .object(["role": .string("system"), "content": .string("be brief")]),
            .object(["role": .string("user"), "content": .string("hi")]),
        ])
        let file = try read(#"{"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]}"#)
        #expect(file.lines.first?.prompt == .object(["messages": messages]))
        #expect(file.lines.first?.customID == nil)
    }

    @Test func aBatchLineBecomesAPromptObject() throws {
        let file = try read(#"""
            {"custom_id": "r-1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt", "messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 7, "temperature": 0, "top_p": 0.9, "stream": false, "metadata": {"a": "b"}}}
            """#)
        let line = try #require(file.lines.first)
        #expect(line.customID == "r-1")
        #expect(object(line) == [
            "messages": .array([.object(["role": .string("user"), "content": .string("hi")])]),
            "model": .string("gpt"), "max_tokens": .number(7), "temperature": .number(0),
            "metadata": .object(["a": .string("b")]),
        ])
        // top_p cannot be carried and is reported; stream makes no difference and is not.
        #expect(file.ignoredFields == ["top_p": 1])
    }

    @Test func blankLinesAreSkippedButCounted() throws {
        let file = try read("\u{FEFF}\"one\"\r\n\n  \t\n\"two\"\n\n")
        #expect(file.lines.map(\.number) == [1, 4])
        #expect(file.lines.map(\.prompt) == [.string("one"), .string("two")])
    }

    @Test(arguments: [
        (#"{"prompt": "hi""#, "line 2: not valid JSON"),
        ("42", "line 2: expected a JSON string (the prompt), an object with \"prompt\" or \"messages\", or a Batch API request line"),
        (#""""#, "line 2: the prompt is an empty string"),
        (#"{"prompt": ""}"#, "line 2: prompt must be a non-empty string"),
        (#"{"model": "m"}"#, #"line 2: an object needs "prompt" or "messages""#),
        (#"{"prompt": "a", "messages": [{"role": "user", "content": "b"}]}"#, #"line 2: the object has both "prompt" and "messages"; give one"#),
        (#"{"prompt": "a", "max_token": 5}"#, #"line 2: unknown field "max_token""#),
        (#"{"messages": []}"#, "line 2: messages must be a non-empty list"),
        (#"{"messages": [{"role": "robot", "content": "b"}]}"#, "line 2: messages[0].role must be one of assistant, developer, system, tool, user"),
        (#"{"messages": [{"role": "user", "content": [{"type": "text", "text": "b"}]}]}"#, "line 2: messages[0].content must be a string"),
        (#"{"prompt": "a", "max_tokens": 1.5}"#, "line 2: max_tokens must be a positive integer"),
        (#"{"prompt": "a", "max_tokens": 0}"#, "line 2: max_tokens must be a positive integer"),
        (#"{"prompt": "a", "temperature": 3}"#, "line 2: temperature must be a number between 0 and 2"),
        (#"{"prompt": "a", "metadata": {"n": 1}}"#, "line 2: metadata must be an object of strings"),
        (#"{"prompt": "a", "cache": "no"}"#, "line 2: cache must be true or false"),
        (#"{"prompt": "a", "custom_id": ""}"#, "line 2: custom_id must be a string of 1 to 512 characters"),
        (#"{"method": "POST", "url": "/v1/chat/completions", "body": {"messages": [{"role": "user", "content": "b"}]}}"#, "line 2: custom_id: required in a Batch API request line"),
        (#"{"custom_id": "x", "method": "POST", "url": "/v1/embeddings", "body": {"input": "b"}}"#, #"line 2: url: must be "/v1/chat/completions""#),
        (#"{"custom_id": "x", "method": "GET", "url": "/v1/chat/completions", "body": {}}"#, #"line 2: method: must be "POST""#),
        (#"{"custom_id": "x", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m"}}"#, "line 2: body.messages: required"),
        (#"{"custom_id": "x", "method": "POST", "url": "/v1/chat/completions", "body": {"messages": [{"role": "user", "content": "b"}], "temperature": -1}}"#, "line 2: body.temperature must be a number between 0 and 2"),
    ])
    func aBadLineIsNamed(line: String, message: String) {
        let error = #expect(throws: InputError.self) {
            try read("\"fine\"\n" + line + "\n\"also fine\"")
        }
        #expect(error?.line == 2)
        #expect(error?.description.hasPrefix(message) == true, "\(String(describing: error))")
    }

    @Test func aCustomIDUsedTwiceNamesBothLines() {
        #expect(throws: InputError(line: 3, #"custom_id "a" is used by line 1 too; each must be unique"#)) {
            try read(#"""
                {"prompt": "x", "custom_id": "a"}
                "y"
                {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"messages": [{"role": "user", "content": "z"}]}}
                """#)
        }
    }

    @Test func aFileWithoutPromptsIsRefused() {
        #expect(throws: InputError(line: nil, "the file holds no prompts; expected one JSON value per line")) {
            try read("\n  \n")
        }
    }
}
