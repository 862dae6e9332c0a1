import ArgumentParser

struct MockUpstreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mock-upstream", abstract: "Run the OpenAI-compatible simulator.")
    func run() async throws {}
}
