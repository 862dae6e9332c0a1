import ArgumentParser
import Foundation
import Logging
import PromptlineServer

/// `promptline keys`: the API keys in the store a server uses.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list and revoke API keys.",
        discussion: """
            Keys live in the server's store, so use the store flags `serve` uses (--data-dir or --redis-url, \
            or their environment variables and .env). Once any key exists, every /api and /v1 route needs \
            Authorization: Bearer KEY.
            """,
        subcommands: [Create.self, List.self, Revoke.self]
    )

    /// Where the keys are: the store flags of `serve`.
    struct StoreOptions: ParsableArguments {
        @Option(name: .customLong(Setting.dataDir.name), help: ArgumentHelp(Setting.dataDir.help)) var dataDir: String?
        @Option(name: .customLong(Setting.redisURL.name), help: ArgumentHelp(Setting.redisURL.help)) var redisURL: String?
        @Option(name: .customLong(Setting.redisPrefix.name), help: ArgumentHelp(Setting.redisPrefix.help)) var redisPrefix: String?
        @Option(name: .customLong("config"), help: "A TOML file of settings, as serve reads it. Env: PROMPTLINE_CONFIG.") var config: String?
        @Option(name: .customLong("env-file"), help: "The .env file to read. Default: .env in the working directory.") var envFile = ".env"

        func withKeyRing<T: Sendable>(_ body: (KeyRing) async throws -> T) async throws -> T {
            let flags: [Setting: String?] = [.dataDir: dataDir, .redisURL: redisURL, .redisPrefix: redisPrefix]
            let options = CommandLineSettings(flags: flags.compactMapValues { $0 }, configPath: config, envFile: envFile)
            let settings: ServerSettings
            do {
                settings = try options.resolve(environment: ProcessInfo.processInfo.environment)
            } catch {
                ServeCommand.refuse(error)
            }
            var logger = Logger(label: "promptline.keys")
            logger.logLevel = .warning
            do {
                return try await PromptlineApp.withKeyRing(settings: settings, logger: logger, body)
            } catch {
                ServeCommand.refuse(error)
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a key and print it once; the store keeps only its SHA-256.",
            discussion: "The last line printed is the key itself."
        )

        @Option(help: "A name for the key, unique among the keys.") var name: String
        @Option(help: "Requests per minute the key may make. Default: no limit.") var rpm: Int?
        @Option(help: "Tokens per minute the key may use (prompt bytes / 4 + max_tokens, counted when work is admitted). Default: no limit.") var tpm: Int?
        @Option(name: .customLong("max-in-flight"), help: "Unfinished tasks the key may have at once. Default: no limit.") var maxInFlight: Int?
        @Flag(help: "An admin key: it may see the whole server (/api/stats, /api/cluster, /api/cache, and /metrics with --metrics-key-required).") var admin = false
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let limits = APIKey.Limits(requestsPerMinute: rpm, tokensPerMinute: tpm, maxInFlight: maxInFlight)
            let (key, secret) = try await store.withKeyRing { try await $0.create(name: name, limits: limits, admin: admin) }
            print("created \(key.admin ? "admin " : "")key \(key.id) '\(key.name)' (\(KeysCommand.describe(key.limits)))")
            print("the key is shown once; keep it secret. Send it as Authorization: Bearer KEY")
            print(secret)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the keys (never the keys themselves).")

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let keys = try await store.withKeyRing { try await $0.list() }
            guard !keys.isEmpty else {
                print("no keys: the server is open to anyone who can reach it")
                return
            }
            let rows = keys.map { key in
                [key.id, key.name, key.admin ? "admin" : "-", KeysCommand.describe(key.limits), ISO8601DateFormatter().string(from: key.createdAt)]
            }
            let header = ["ID", "NAME", "ADMIN", "LIMITS", "CREATED"]
            let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
            for row in [header] + rows {
                let cells = row.indices.map { $0 == row.count - 1 ? row[$0] : row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                print(cells.joined(separator: "  "))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a key by id or name; servers refuse it within a second."
        )

        @Argument(help: "The key's id (key_…) or name.") var key: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let revoked = try await store.withKeyRing { try await $0.revoke(key) }
            print("revoked key \(revoked.id) '\(revoked.name)'")
        }
    }

    static func describe(_ limits: APIKey.Limits) -> String {
        let parts = [
            limits.requestsPerMinute.map { "rpm \($0)" },
            limits.tokensPerMinute.map { "tpm \($0)" },
            limits.maxInFlight.map { "in flight \($0)" },
        ].compactMap { $0 }
        return parts.isEmpty ? "no limits" : parts.joined(separator: ", ")
    }
}
