import ArgumentParser
import Foundation
import PromptlineClient

/// The server and the API key, shared by `submit` and `status`.
struct ClientOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The Promptline server's URL. Default: $PROMPTLINE_SERVER, else \(Self.defaultServer).", valueName: "url"))
    var server: String?

    @Option(name: .customLong("api-key"), help: ArgumentHelp(
        "Sent as 'Authorization: Bearer KEY'. Default: $PROMPTLINE_API_KEY.", valueName: "key"))
    var apiKey: String?

    static let defaultServer = "http://127.0.0.1:8000"

    /// The client's configuration; a server URL that is not one fails `command` with status 2.
    func configuration(for command: String) throws -> TaskClient.Configuration {
        let environment = ProcessInfo.processInfo.environment
        do {
            return try TaskClient.Configuration(
                server: server ?? environment["PROMPTLINE_SERVER"] ?? Self.defaultServer,
                apiKey: apiKey ?? environment["PROMPTLINE_API_KEY"])
        } catch {
            throw Self.fail(command, "\(error)")
        }
    }

    /// Prints `message` on standard error as `promptline COMMAND: message` and answers the
    /// exit status to throw.
    static func fail(_ command: String, _ message: String, status: Int32 = 2) -> ExitCode {
        FileHandle.standardError.write(Data("promptline \(command): \(message)\n".utf8))
        return ExitCode(status)
    }
}
