import ArgumentParser
import Foundation
import PromptlineClient

/// `promptline status ID…`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show tasks: status, progress, attempts, timings, model, usage, and the result or error.",
        discussion: "Exit status: 0 when every task was found; 1 when some id is unknown or expired; 2 when the server refuses the request or cannot be reached."
    )

    @Argument(help: ArgumentHelp("Task ids.", valueName: "id"))
    var ids: [String]

    @OptionGroup var connection: ClientOptions

    @Flag(help: "Print the server's JSON for each task, one document a line.")
    var json = false

    @Flag(help: "Print results and errors whole (otherwise cut to 1,000 characters and 20 lines).")
    var full = false

    func validate() throws {
        guard !ids.isEmpty else { throw ValidationError("give at least one task id") }
    }

    func run() async throws {
        let missing = try await TaskClient.with(try connection.configuration(for: "status")) { client in
            var missing = 0
            for (index, id) in ids.enumerated() {
                do {
                    let (detail, raw) = try await client.task(id: id)
                    print(json ? String(decoding: raw, as: UTF8.self) : (index > 0 ? "\n" : "") + detail.text(full: full))
                } catch let error as TaskClientError {
                    guard error.code == .status(404) else { throw ClientOptions.fail("status", "\(error)") }
                    missing += 1
                    FileHandle.standardError.write(Data("promptline status: task \(id) not found (unknown or expired)\n".utf8))
                }
            }
            return missing
        }
        if missing > 0 { throw ExitCode(1) }
    }
}
