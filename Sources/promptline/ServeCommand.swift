import ArgumentParser
import Foundation
import Logging
import PromptlineServer

/// `promptline serve`: flags win over the environment, which wins over `.env`.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Promptline server.",
        discussion: "Every setting also comes from its environment variable or a .env file; a flag wins over the environment, which wins over .env."
    )

    @Option(help: ArgumentHelp(Setting.host.help)) var host: String?
    @Option(help: ArgumentHelp(Setting.port.help)) var port: String?
    @Option(name: .customLong(Setting.upstreamURL.rawValue), help: ArgumentHelp(Setting.upstreamURL.help)) var upstreamURL: String?
    @Option(name: .customLong(Setting.upstreamAPIKey.rawValue), help: ArgumentHelp(Setting.upstreamAPIKey.help)) var upstreamAPIKey: String?
    @Option(help: ArgumentHelp(Setting.model.help)) var model: String?
    @Option(name: .customLong(Setting.maxTokens.rawValue), help: ArgumentHelp(Setting.maxTokens.help)) var maxTokens: String?
    @Option(help: ArgumentHelp(Setting.temperature.help)) var temperature: String?
    @Option(help: ArgumentHelp(Setting.workers.help)) var workers: String?
    @Option(name: .customLong(Setting.dataDir.rawValue), help: ArgumentHelp(Setting.dataDir.help)) var dataDir: String?
    @Option(name: .customLong(Setting.redisURL.rawValue), help: ArgumentHelp(Setting.redisURL.help)) var redisURL: String?
    @Option(name: .customLong(Setting.redisPrefix.rawValue), help: ArgumentHelp(Setting.redisPrefix.help)) var redisPrefix: String?
    @Option(name: .customLong(Setting.instanceID.rawValue), help: ArgumentHelp(Setting.instanceID.help)) var instanceID: String?
    @Option(name: .customLong(Setting.heartbeatInterval.rawValue), help: ArgumentHelp(Setting.heartbeatInterval.help)) var heartbeatInterval: String?
    @Option(name: .customLong(Setting.upstreamTimeout.rawValue), help: ArgumentHelp(Setting.upstreamTimeout.help)) var upstreamTimeout: String?
    @Option(name: .customLong(Setting.upstreamStreaming.rawValue), help: ArgumentHelp(Setting.upstreamStreaming.help)) var upstreamStreaming: String?
    @Option(name: .customLong(Setting.maxAttempts.rawValue), help: ArgumentHelp(Setting.maxAttempts.help)) var maxAttempts: String?
    @Option(name: .customLong(Setting.retryBaseDelay.rawValue), help: ArgumentHelp(Setting.retryBaseDelay.help)) var retryBaseDelay: String?
    @Option(name: .customLong(Setting.retryMaxDelay.rawValue), help: ArgumentHelp(Setting.retryMaxDelay.help)) var retryMaxDelay: String?
    @Option(help: ArgumentHelp(Setting.lease.help)) var lease: String?
    @Option(name: .customLong(Setting.statusTTL.rawValue), help: ArgumentHelp(Setting.statusTTL.help)) var statusTTL: String?
    @Option(name: .customLong(Setting.resultTTL.rawValue), help: ArgumentHelp(Setting.resultTTL.help)) var resultTTL: String?
    @Option(name: .customLong(Setting.shutdownGrace.rawValue), help: ArgumentHelp(Setting.shutdownGrace.help)) var shutdownGrace: String?
    @Option(name: .customLong(Setting.maxBodySize.rawValue), help: ArgumentHelp(Setting.maxBodySize.help)) var maxBodySize: String?
    @Option(name: .customLong(Setting.cacheTTL.rawValue), help: ArgumentHelp(Setting.cacheTTL.help)) var cacheTTL: String?
    @Option(name: .customLong(Setting.batchMaxRequests.rawValue), help: ArgumentHelp(Setting.batchMaxRequests.help)) var batchMaxRequests: String?
    @Option(name: .customLong(Setting.batchMaxFileSize.rawValue), help: ArgumentHelp(Setting.batchMaxFileSize.help)) var batchMaxFileSize: String?
    @Option(name: .customLong(Setting.maxPrompts.rawValue), help: ArgumentHelp(Setting.maxPrompts.help)) var maxPrompts: String?
    @Option(name: .customLong(Setting.maxPromptLength.rawValue), help: ArgumentHelp(Setting.maxPromptLength.help)) var maxPromptLength: String?
    @Option(name: .customLong(Setting.maxTokensLimit.rawValue), help: ArgumentHelp(Setting.maxTokensLimit.help)) var maxTokensLimit: String?
    @Option(name: .customLong(Setting.webhookSecret.rawValue), help: ArgumentHelp(Setting.webhookSecret.help)) var webhookSecret: String?
    @Option(name: .customLong(Setting.webhookTimeout.rawValue), help: ArgumentHelp(Setting.webhookTimeout.help)) var webhookTimeout: String?
    @Option(name: .customLong(Setting.webhookMaxAttempts.rawValue), help: ArgumentHelp(Setting.webhookMaxAttempts.help)) var webhookMaxAttempts: String?
    @Option(name: .customLong(Setting.webhookRetryDelay.rawValue), help: ArgumentHelp(Setting.webhookRetryDelay.help)) var webhookRetryDelay: String?
    @Option(name: .customLong(Setting.logLevel.rawValue), help: ArgumentHelp(Setting.logLevel.help)) var logLevel: String?
    @Option(name: .customLong(Setting.logFormat.rawValue), help: ArgumentHelp(Setting.logFormat.help)) var logFormat: String?
    @Option(name: .customLong("env-file"), help: "The .env file to read. Default: .env in the working directory.") var envFile = ".env"

    var flags: [Setting: String] {
        let values: [Setting: String?] = [
            .host: host, .port: port, .upstreamURL: upstreamURL, .upstreamAPIKey: upstreamAPIKey, .model: model,
            .maxTokens: maxTokens, .temperature: temperature, .workers: workers, .dataDir: dataDir, .redisURL: redisURL,
            .redisPrefix: redisPrefix, .instanceID: instanceID, .heartbeatInterval: heartbeatInterval,
            .upstreamTimeout: upstreamTimeout, .upstreamStreaming: upstreamStreaming, .maxAttempts: maxAttempts,
            .retryBaseDelay: retryBaseDelay, .retryMaxDelay: retryMaxDelay, .lease: lease, .statusTTL: statusTTL,
            .resultTTL: resultTTL, .shutdownGrace: shutdownGrace, .maxBodySize: maxBodySize, .logLevel: logLevel,
            .logFormat: logFormat,
            .cacheTTL: cacheTTL, .batchMaxRequests: batchMaxRequests, .batchMaxFileSize: batchMaxFileSize,
            .maxPrompts: maxPrompts, .maxPromptLength: maxPromptLength, .maxTokensLimit: maxTokensLimit,
            .webhookSecret: webhookSecret, .webhookTimeout: webhookTimeout, .webhookMaxAttempts: webhookMaxAttempts,
            .webhookRetryDelay: webhookRetryDelay,
        ]
        return values.compactMapValues { $0 }
    }

    func run() async throws {
        let settings: ServerSettings
        do {
            let environment = DotEnv.merged(environment: ProcessInfo.processInfo.environment, dotenv: try DotEnv.load(path: envFile))
            settings = try ServerSettings.resolve(flags: flags, environment: environment).get()
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
