import ArgumentParser
import Foundation
import Logging
import PromptlineServer

/// `promptline serve`. Its settings are not declared here one by one: they come from the one
/// table in `PromptlineServer` (``Setting/all``), which also writes this command's help.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Promptline server.",
        discussion: "Every setting, with its flag, environment variable, config-file key and default: promptline serve --help.",
        // The help is the settings table's (`--help` reaches `run` as an argument).
        helpNames: []
    )

    /// `--name value` and `--name=value` pairs, read against the settings table.
    @Argument(parsing: .allUnrecognized, help: .hidden) var arguments: [String] = []

    func run() async throws {
        let options: CommandLineSettings
        do {
            options = try CommandLineSettings(arguments)
        } catch {
            Self.refuse(error)
        }
        if options.wantsHelp {
            print(Setting.serveHelp(), terminator: "")
            return
        }
        let settings: ServerSettings
        do {
            settings = try options.resolve(environment: ProcessInfo.processInfo.environment)
        } catch {
            Self.refuse(error)
        }
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = switch settings.logFormat {
            case .text: DeferredMetadataLogHandler(StreamLogHandler.standardError(label: label))
            case .json: JSONLogHandler.standardError(label: label)
            }
            handler.logLevel = settings.logLevel
            return handler
        }
        let logger = Logger(label: "promptline")
        do {
            try await PromptlineApp.run(settings: settings, logger: logger)
        } catch let error as SettingsError {
            Self.refuse(error)
        }
    }

    /// Prints one line per problem and exits with status 2.
    static func refuse(_ error: any Error) -> Never {
        let lines = (error as? SettingsError)?.problems ?? ["\(error)"]
        for line in lines {
            FileHandle.standardError.write(Data("promptline: \(line)\n".utf8))
        }
        Foundation.exit(2)
    }
}
