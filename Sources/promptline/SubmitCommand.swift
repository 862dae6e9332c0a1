import ArgumentParser
import Foundation
import PromptlineClient

/// `promptline submit FILE.jsonl [--wait] [--output results.jsonl]`.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a JSONL file of prompts; with --wait, collect every result.",
        discussion: """
            Each line of FILE is one prompt, in one of these forms:
              "Translate 'cat' into French"
              {"prompt": "…", "max_tokens": 50, "metadata": {"k": "v"}, "custom_id": "a1"}
              {"messages": [{"role": "user", "content": "…"}], "model": "…"}
              {"custom_id": "a1", "method": "POST", "url": "/v1/chat/completions",
               "body": {"model": "…", "messages": […]}}           (a Batch API line)
            Options of an object (model, max_tokens, temperature, metadata, priority, cache) are optional. A Batch API \
            line's body gives messages, model, max_tokens (or max_completion_tokens), temperature, metadata and cache; \
            other body fields are left out, with a warning. Blank lines are skipped. The whole file is checked before \
            anything is sent: a bad line is named and nothing is submitted.

            The prompts go in requests of --chunk-size, each with an idempotency key derived from its prompts and its \
            place in the file: a request sent again (after a 429 or 503, which are waited out, or when the same command \
            is run again after an interruption) finds the tasks it queued the first time instead of queueing them twice. \
            Give a new --idempotency-key to run the same file again for fresh answers.

            Without --wait, prints the task ids, one per line, in input order. With --wait, shows progress on standard \
            error and writes one JSON line per input line, in input order, to --output or standard output:
              {"line": 3, "custom_id": "a1", "task_id": "…", "status": "completed",
               "result": "…", "error": null}
            (custom_id only when the line has one; status is completed, error, cancelled or not_found).

            Exit status: 0 when everything is queued (with --wait: every task completed); 1 with --wait when some task \
            did not complete (its line says why); 2 when the file is refused, the server refuses a request or cannot be \
            reached (chunks before the refused one stay queued), or the results cannot be written.
            """
    )

    @Argument(help: ArgumentHelp("The JSONL file of prompts; - reads standard input.", valueName: "file"))
    var file: String

    @OptionGroup var connection: ClientOptions

    @Flag(help: "Wait until every task is finished, showing progress, and write the results.")
    var wait = false

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "With --wait: write the results to this file instead of standard output.", valueName: "file"))
    var output: String?

    @Option(name: .customLong("chunk-size"), help: "Prompts per request to the server.")
    var chunkSize = 500

    @Option(name: .customLong("idempotency-key"), help: ArgumentHelp(
        "Mixed into every request's idempotency key; a new value queues the file again.", valueName: "key"))
    var idempotencyKey = ""

    @Option(name: .customLong("poll-interval"), help: ArgumentHelp(
        "With --wait: seconds between two rounds of status requests.", valueName: "seconds"))
    var pollInterval = 0.5

    @Option(help: ArgumentHelp(
        "Times a failed request is sent again (server unreachable, 5xx, 503) before giving up; a 429 is waited out however often it comes.",
        valueName: "count"))
    var retries = 8

    @Flag(name: .shortAndLong, help: "Show no progress and no summary on standard error; errors still show.")
    var quiet = false

    func validate() throws {
        guard (1...50_000).contains(chunkSize) else { throw ValidationError("--chunk-size must be between 1 and 50000") }
        guard pollInterval > 0 else { throw ValidationError("--poll-interval must be positive") }
        guard retries >= 0 else { throw ValidationError("--retries must not be negative") }
        guard output == nil || wait else { throw ValidationError("--output writes results, which needs --wait") }
    }

    func run() async throws {
        let input: InputFile
        do {
            input = try InputFile(try readInput())
        } catch {
            throw ClientOptions.fail("submit", "\(file == "-" ? "standard input" : file): \(error)")
        }
        var display = ProgressDisplay.standardError(quiet: quiet)
        if !input.ignoredFields.isEmpty {
            let fields = input.ignoredFields.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value) line\($0.value == 1 ? "" : "s"))" }
            display.note("warning: /api/tasks does not carry these Batch API body fields; they are left out: \(fields.joined(separator: ", "))")
        }
        let results = try openOutput()
        try await TaskClient.with(try connection.configuration(for: "submit")) { client in
            let ids = try await submit(input, to: client, display: &display)
            guard wait else {
                print(ids.joined(separator: "\n"))
                return
            }
            let summaries = try await waitForTasks(ids, client: client, display: &display)
            try write(ResultLine.lines(for: input.lines, taskIDs: ids, summaries: summaries), to: results, display: &display)
        }
    }

    /// Writes the results and a summary; exit status 1 when some task did not complete.
    private func write(_ lines: [ResultLine], to results: FileHandle, display: inout ProgressDisplay) throws {
        results.write(Data(lines.map { $0.json + "\n" }.joined().utf8))
        try? results.close()
        var failed: [String: Int] = [:]
        for line in lines where line.status != "completed" { failed[line.status, default: 0] += 1 }
        var summary = "\(lines.count - failed.values.reduce(0, +)) of \(lines.count) tasks completed"
        if !failed.isEmpty { summary += "; " + failed.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") }
        if let output { summary += "; results in \(output)" }
        display.note(summary)
        if !failed.isEmpty { throw ExitCode(1) }
    }

    private func readInput() throws -> Data {
        if file == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
        return try Data(contentsOf: URL(fileURLWithPath: file))
    }

    /// The results' destination, opened (and emptied) before anything is submitted, so that a
    /// path that cannot be written fails at once rather than after the wait.
    private func openOutput() throws -> FileHandle {
        guard let output else { return FileHandle.standardOutput }
        guard FileManager.default.createFile(atPath: output, contents: nil), let handle = FileHandle(forWritingAtPath: output) else {
            throw ClientOptions.fail("submit", "cannot write the results file \(output)")
        }
        return handle
    }

    private func submit(_ input: InputFile, to client: TaskClient, display: inout ProgressDisplay) async throws -> [String] {
        let chunks = SubmissionChunk.plan(input.lines, maxPrompts: chunkSize, runKey: idempotencyKey)
        var queued = 0
        var earlier = 0
        let ids: [String]
        do {
            ids = try await Submitter(client: client, retry: ServerRetry(retries: retries)).submit(chunks, of: input.lines) { event in
                switch event {
                case .submitted(let chunk, let duplicate):
                    queued += chunk.lines.count
                    if duplicate { earlier += chunk.lines.count }
                    let text = "queued \(queued) of \(input.lines.count) prompts (chunk \(chunk.index + 1) of \(chunks.count))"
                    display.show(line: text, sentence: text)
                case .retrying(let chunk, let error, let wait):
                    display.note("chunk \(chunk.index + 1) of \(chunks.count): \(error); sending it again in \(Self.seconds(wait))")
                }
            }
        } catch let error as SubmitError {
            display.end()
            throw ClientOptions.fail("submit", "\(error)")
        }
        var summary = "\(ids.count) tasks queued on \(client.configuration.server)"
        if earlier > 0 { summary += " (\(earlier) of them by an earlier run of this file)" }
        display.note(summary)
        return ids
    }

    private func waitForTasks(_ ids: [String], client: TaskClient, display: inout ProgressDisplay) async throws -> [String: TaskSummary] {
        let waiter = TaskWaiter(client: client, retry: ServerRetry(retries: retries), pollInterval: .milliseconds(Int64(pollInterval * 1_000)))
        var bar = ProgressBar(total: ids.count)
        do {
            let summaries = try await waiter.wait(for: ids) { progress in
                bar.update(progress, at: .now)
                display.show(line: bar.bar(), sentence: bar.sentence, force: progress.finished == progress.total)
            } onRetry: { error, wait in
                display.note("reading the tasks' status: \(error); trying again in \(Self.seconds(wait))")
            }
            display.end()
            return summaries
        } catch let error as TaskClientError {
            display.end()
            throw ClientOptions.fail("submit", "waiting for the tasks failed: \(error). They stay queued; run the same command again to wait for them")
        }
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.1f s", duration / .seconds(1))
    }
}
