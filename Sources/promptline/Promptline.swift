import ArgumentParser

/// The `promptline` command: the server, its client, its simulator and its benchmark.
@main
struct Promptline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promptline",
        abstract: "An asynchronous LLM job server for OpenAI-compatible APIs.",
        subcommands: [
            ServeCommand.self, KeysCommand.self, SubmitCommand.self, SummarizeCommand.self, StatusCommand.self, MockUpstreamCommand.self, BenchCommand.self,
        ]
    )
}
