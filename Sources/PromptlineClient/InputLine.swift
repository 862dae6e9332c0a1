import PromptlineCore

/// One prompt read from an input file, ready to be sent as an entry of `prompts` in
/// `POST /api/tasks`.
package struct InputLine: Sendable, Hashable {
    /// The line's number in the file, counting from 1 (blank lines included).
    package var number: Int
    /// The caller's name for this prompt (`custom_id` of a Batch API line or of a prompt
    /// object), repeated in its result line.
    package var customID: String?
    /// The entry of `prompts`: a string, or an object with `prompt` or `messages` and the
    /// options the server takes per prompt.
    package var prompt: JSONValue

    package init(number: Int, customID: String? = nil, prompt: JSONValue) {
        self.number = number
        self.customID = customID
        self.prompt = prompt
    }
}
