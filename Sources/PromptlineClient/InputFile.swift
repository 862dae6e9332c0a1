import Foundation
import PromptlineCore

/// A JSONL file of prompts, read and checked whole before anything is submitted.
///
/// Each non-blank line is one of:
/// - a JSON string: the prompt;
/// - a prompt object, `{"prompt": "…"}` or `{"messages": [{"role": …, "content": …}, …]}`,
///   with optional `model`, `max_tokens`, `temperature`, `metadata`, `priority`, `cache`,
///   `vector_store_ids` (a question answered from those vector stores; sent as they are) and
///   `custom_id` (kept for the result line);
/// - a Batch API request line, `{"custom_id": "…", "method": "POST", "url":
///   "/v1/chat/completions", "body": {…}}`, whose body's `messages`, `model`, `max_tokens`
///   (or `max_completion_tokens`), `temperature`, `metadata` and `cache` are sent.
///
/// Lines holding only spaces or tabs are skipped; line numbers still count them, so a
/// number names the line an editor shows. `custom_id`s must be unique.
package struct InputFile: Sendable {
    package var lines: [InputLine]
    /// Fields of Batch API bodies that `/api/tasks` does not carry (`top_p`, `response_format`,
    /// …), each with the number of lines that set it. They are left out of the submission.
    package var ignoredFields: [String: Int]

    /// Reads a whole file. Throws an ``InputError`` naming the first line at fault.
    package init(_ data: Data) throws(InputError) {
        var lines: [InputLine] = []
        var ignoredFields: [String: Int] = [:]
        var firstLineOfID: [String: Int] = [:]
        var number = 0
        let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]
        let text = data.starts(with: byteOrderMark) ? data.dropFirst(byteOrderMark.count) : data[...]
        for raw in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            var bytes = raw
            if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
            if bytes.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
            let (line, ignored) = try Self.line(Data(bytes), number: number)
            if let id = line.customID {
                if let first = firstLineOfID[id] {
                    throw InputError(line: number, "custom_id \"\(id)\" is used by line \(first) too; each must be unique")
                }
                firstLineOfID[id] = number
            }
            for field in ignored { ignoredFields[field, default: 0] += 1 }
            lines.append(line)
        }
        guard !lines.isEmpty else {
            throw InputError(line: nil, "the file holds no prompts; expected one JSON value per line")
        }
        self.lines = lines
        self.ignoredFields = ignoredFields
    }

    /// Reads one line (not blank). Answers the prompt and the Batch API body fields left out.
    static func line(_ data: Data, number: Int) throws(InputError) -> (InputLine, ignored: [String]) {
        let value: JSONValue
        do {
            value = try JSONValue.parse(data)
        } catch {
            throw InputError(line: number, "not valid JSON (\(error))")
        }
        switch value {
        case .string(let text):
            guard !text.isEmpty else { throw InputError(line: number, "the prompt is an empty string") }
            return (InputLine(number: number, prompt: value), [])
        case .object(let object) where object["body"] != nil || object["url"] != nil || object["method"] != nil:
            return try batchLine(object, number: number)
        case .object(let object):
            return (try promptObject(object, number: number), [])
        default:
            throw InputError(line: number, "expected a JSON string (the prompt), an object with \"prompt\" or \"messages\", or a Batch API request line")
        }
    }

    static let promptFields = ["prompt", "messages", "model", "max_tokens", "temperature", "metadata", "priority", "cache", "vector_store_ids", "custom_id"]
    static let batchFields = ["custom_id", "method", "url", "body"]
    /// Batch API body fields that make no difference to a result collected whole.
    static let silentlyIgnored: Set<String> = ["stream", "stream_options"]

    private static func promptObject(_ object: [String: JSONValue], number: Int) throws(InputError) -> InputLine {
        func bad(_ why: String) -> InputError { InputError(line: number, why) }
        if let unknown = object.keys.sorted().first(where: { !promptFields.contains($0) }) {
            throw bad("unknown field \"\(unknown)\"; a prompt object has \"prompt\" or \"messages\", and may have \(promptFields.dropFirst(2).joined(separator: ", "))")
        }
        switch (object["prompt"], object["messages"]) {
        case (let prompt?, nil):
            guard let text = prompt.string, !text.isEmpty else { throw bad("prompt must be a non-empty string") }
        case (nil, let messages?):
            try checkMessages(messages, at: "messages", number: number)
        case (nil, nil):
            throw bad("an object needs \"prompt\" or \"messages\"")
        case (_?, _?):
            throw bad("the object has both \"prompt\" and \"messages\"; give one")
        }
        try checkOptions(object, at: "", number: number)
        let customID = try customID(object["custom_id"], number: number)
        var prompt = object
        prompt["custom_id"] = nil
        return InputLine(number: number, customID: customID, prompt: .object(prompt))
    }

    private static func batchLine(_ object: [String: JSONValue], number: Int) throws(InputError) -> (InputLine, ignored: [String]) {
        func bad(_ why: String) -> InputError { InputError(line: number, why) }
        if let unknown = object.keys.sorted().first(where: { !batchFields.contains($0) }) {
            throw bad("unknown field \"\(unknown)\" in a Batch API request line (custom_id, method, url, body)")
        }
        guard let customID = try customID(object["custom_id"], number: number) else {
            throw bad("custom_id: required in a Batch API request line")
        }
        guard object["method"]?.string?.uppercased() == "POST" else { throw bad("method: must be \"POST\"") }
        guard object["url"]?.string == "/v1/chat/completions" else {
            throw bad("url: must be \"/v1/chat/completions\", the one endpoint Promptline runs")
        }
        guard case .object(let body)? = object["body"] else { throw bad("body: required, a JSON object") }
        guard let messages = body["messages"] else { throw bad("body.messages: required") }
        try checkMessages(messages, at: "body.messages", number: number)
        if body["max_tokens"] != nil, body["max_completion_tokens"] != nil {
            throw bad("body has both max_tokens and max_completion_tokens; give one")
        }
        var prompt: [String: JSONValue] = ["messages": messages]
        prompt["model"] = body["model"]
        prompt["max_tokens"] = body["max_tokens"] ?? body["max_completion_tokens"]
        prompt["temperature"] = body["temperature"]
        prompt["metadata"] = body["metadata"]
        prompt["cache"] = body["cache"]
        try checkOptions(prompt, at: "body.", number: number)
        let carried: Set = ["messages", "model", "max_tokens", "max_completion_tokens", "temperature", "metadata", "cache"]
        let ignored = body.keys.filter { !carried.contains($0) && !silentlyIgnored.contains($0) }.sorted()
        return (InputLine(number: number, customID: customID, prompt: .object(prompt)), ignored)
    }

    private static func customID(_ value: JSONValue?, number: Int) throws(InputError) -> String? {
        guard let value else { return nil }
        guard let id = value.string, (1...512).contains(id.count) else {
            throw InputError(line: number, "custom_id must be a string of 1 to 512 characters")
        }
        return id
    }

    private static func checkMessages(_ value: JSONValue, at path: String, number: Int) throws(InputError) {
        func bad(_ why: String) -> InputError { InputError(line: number, why) }
        guard let messages = value.array, !messages.isEmpty else { throw bad("\(path) must be a non-empty list") }
        for (index, message) in messages.enumerated() {
            guard message.object != nil else { throw bad("\(path)[\(index)] must be an object with role and content") }
            guard let role = message["role"]?.string, ChatMessage.roles.contains(role) else {
                throw bad("\(path)[\(index)].role must be one of \(ChatMessage.roles.sorted().joined(separator: ", "))")
            }
            guard message["content"]?.string != nil else {
                throw bad("\(path)[\(index)].content must be a string")
            }
        }
    }

    /// Checks the types and ranges of the options a prompt may set; the server checks the rest.
    private static func checkOptions(_ object: [String: JSONValue], at prefix: String, number: Int) throws(InputError) {
        func bad(_ why: String) -> InputError { InputError(line: number, prefix + why) }
        if let model = object["model"], model.string?.isEmpty ?? true {
            throw bad("model must be a non-empty string")
        }
        if let maxTokens = object["max_tokens"], !(wholeNumber(maxTokens).map { $0 >= 1 } ?? false) {
            throw bad("max_tokens must be a positive integer")
        }
        if let temperature = object["temperature"], !(temperature.double.map { (0...2).contains($0) } ?? false) {
            throw bad("temperature must be a number between 0 and 2")
        }
        if let metadata = object["metadata"] {
            guard let entries = metadata.object, entries.values.allSatisfy({ $0.string != nil }) else {
                throw bad("metadata must be an object of strings")
            }
        }
        if let priority = object["priority"], wholeNumber(priority) == nil {
            throw bad("priority must be an integer")
        }
        switch object["cache"] {
        case nil, .bool?: break
        default: throw bad("cache must be true or false")
        }
        if let ids = object["vector_store_ids"] {
            guard let list = ids.array, !list.isEmpty, list.allSatisfy({ !($0.string?.isEmpty ?? true) }) else {
                throw bad("vector_store_ids must be a non-empty list of vector store ids")
            }
        }
    }

    /// The value as an `Int` if it is a number without a fraction (`JSONValue.int` rounds).
    private static func wholeNumber(_ value: JSONValue) -> Int? {
        value.double.flatMap { Int(exactly: $0) }
    }
}
