import ArgumentParser
import Foundation
import PromptlineClient

/// `promptline summarize FILE… [--instructions …] [--wait] [--output F]`.
struct SummarizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summarize",
        abstract: "Upload documents and summarise them as one; with --wait, follow it and write the summary.",
        discussion: """
            Each FILE (PDF, plain text, Markdown or HTML, told by its extension) is uploaded to /v1/files and the \
            summary asked for on /api/summaries (docs/summaries.md). Without --wait, prints the summary's id. With \
            --wait, shows progress on standard error and writes the summary's final record (GET /api/summaries/{id}, \
            JSON) to --output or standard output.

            Exit status: 0 when the summary is asked for (with --wait: completed); 1 with --wait when it ended in \
            error or was cancelled; 2 when a file cannot be read, the server refuses a request or cannot be reached.
            """
    )

    @Argument(help: ArgumentHelp("The documents to summarise.", valueName: "file"))
    var files: [String]

    @OptionGroup var connection: ClientOptions

    @Option(help: ArgumentHelp("What the summary should do or stress; reaches every prompt.", valueName: "text"))
    var instructions: String?

    @Option(help: ArgumentHelp("The model. Default: the server's.", valueName: "name"))
    var model: String?

    @Option(name: .customLong("chunk-tokens"), help: "Tokens per chunk of a document, about. Default: the server's (2000).")
    var chunkTokens: Int?

    @Option(name: .customLong("max-parallel"), help: "Calls of this summary in flight at once. Default: the server's (8).")
    var maxParallel: Int?

    @Option(name: .customLong("on-chunk-error"), help: "fail: a chunk that fails ends the summary; skip: it is left out.")
    var onChunkError: String?

    @Flag(help: "Wait until the summary is finished, showing progress, and write it.")
    var wait = false

    @Option(name: .shortAndLong, help: ArgumentHelp("With --wait: write the summary to this file.", valueName: "file"))
    var output: String?

    @Option(name: .customLong("poll-interval"), help: ArgumentHelp("With --wait: seconds between two looks.", valueName: "seconds"))
    var pollInterval = 0.5

    @Flag(name: .shortAndLong, help: "Show no progress on standard error; errors still show.")
    var quiet = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one file") }
        guard pollInterval > 0 else { throw ValidationError("--poll-interval must be positive") }
        guard output == nil || wait else { throw ValidationError("--output writes the summary, which needs --wait") }
    }

    func run() async throws {
        var documents: [(name: String, data: Data)] = []
        for path in files {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ClientOptions.fail("summarize", "cannot read \(path)")
            }
            documents.append(((path as NSString).lastPathComponent, data))
        }
        var display = ProgressDisplay.standardError(quiet: quiet)
        try await TaskClient.with(try connection.configuration(for: "summarize")) { client in
            do {
                var fileIDs: [String] = []
                for document in documents {
                    fileIDs.append(try await client.uploadDocument(document.data, filename: document.name))
                }
                let id = try await client.createSummary(body: try body(fileIDs: fileIDs))
                guard wait else {
                    print(id)
                    return
                }
                display.note("summary \(id): \(fileIDs.count) document(s) uploaded")
                let (status, json) = try await follow(id, client: client, display: &display)
                display.end()
                try write(json)
                switch status.status {
                case "completed": display.note("summary \(id) completed: \(status.chunks.completed) chunk(s), \(status.chunks.skipped) skipped")
                default:
                    display.note("summary \(id) \(status.status): \(status.error ?? "no cause given")")
                    throw ExitCode(1)
                }
            } catch let error as TaskClientError {
                display.end()
                throw ClientOptions.fail("summarize", "\(error)")
            }
        }
    }

    private func body(fileIDs: [String]) throws -> Data {
        var body: [String: Any] = ["file_ids": fileIDs]
        body["instructions"] = instructions
        body["model"] = model
        body["chunk_tokens"] = chunkTokens
        body["max_parallel"] = maxParallel
        body["on_chunk_error"] = onChunkError
        return try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
    }

    private func follow(_ id: String, client: TaskClient, display: inout ProgressDisplay) async throws -> (SummaryStatus, Data) {
        while true {
            let (status, json) = try await client.summary(id: id)
            let line = "summary \(id): \(status.status) \(status.progress)% — chunks \(status.chunks.completed)/\(status.chunks.total)"
            display.show(line: line, sentence: line, force: status.isFinished)
            if status.isFinished { return (status, json) }
            try await Task.sleep(for: .seconds(pollInterval))
        }
    }

    private func write(_ json: Data) throws {
        var text = json
        text.append(UInt8(ascii: "\n"))
        guard let output else {
            FileHandle.standardOutput.write(text)
            return
        }
        guard FileManager.default.createFile(atPath: output, contents: text) else {
            throw ClientOptions.fail("summarize", "cannot write \(output)")
        }
    }
}
