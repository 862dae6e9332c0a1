import Foundation
import Logging
import PromptlineCore
import RedisClient

/// Every setting of `promptline serve`, with its default. How each is named, read and
/// checked is in ``Setting/all``; how they are resolved from flags, the environment, `.env`
/// and the config file is in `ServerSettings+Resolve.swift`.
package struct ServerSettings: Sendable, Equatable {
    package var host = "127.0.0.1"
    /// 0 picks a free port (the server prints the one it got).
    package var port = 8000
    package var upstreamURL = "https://api.openai.com/v1"
    /// Sent as `Authorization: Bearer`; never logged, stored or answered.
    package var upstreamAPIKey: String?
    package var model = "gpt-3.5-turbo"
    package var maxTokens = 100
    package var temperature = 0.7
    package var workers = ServerSettings.defaultWorkers
    package var dataDir = "./promptline-data"
    package var redisURL: String?
    /// Put before every Redis key, so that several deployments can share one Redis.
    package var redisPrefix = ""
    /// This instance's name in the cluster heartbeats.
    package var instanceID = ServerSettings.defaultInstanceID
    /// Seconds between two heartbeats.
    package var heartbeatInterval = 5.0
    /// Seconds, per attempt and per gap between streamed tokens.
    package var upstreamTimeout = 30.0
    package var upstreamStreaming = true
    package var maxAttempts = 5
    package var retryBaseDelay = 0.5
    package var retryMaxDelay = 30.0
    package var lease = 60.0
    package var statusTTL = 86_400.0
    package var resultTTL = 604_800.0
    package var shutdownGrace = 30.0
    package var maxBodySize = 32 * 1024 * 1024
    /// Seconds an answer stays in the response cache; 0 turns the cache off.
    package var cacheTTL = 3_600.0
    /// Whose answers a cached answer may be: the key that asked (the default), or anyone's.
    package var cacheScope = CacheScope.key
    /// Whether `/metrics` needs an admin key (when keys exist).
    package var metricsKeyRequired = false
    /// The most requests in one Batch API input file.
    package var batchMaxRequests = 50_000
    /// The largest Batch API input file, in bytes.
    package var batchMaxFileSize = 200 * 1024 * 1024
    /// The largest document (`POST /v1/files` with purpose `user_data` or `assistants`), in bytes.
    package var documentMaxSize = 50 * 1024 * 1024
    /// Text extractions (PDF, HTML) at once.
    package var extractWorkers = ProcessInfo.processInfo.activeProcessorCount
    /// Seconds one extraction may take.
    package var extractTimeout = 60.0
    /// The most pages a PDF may have.
    package var documentMaxPages = 2_000
    /// Where vector stores' chunks live when several instances share them: a PostgreSQL URL
    /// with pgvector. `nil`: the data directory (embedded store only).
    package var vectorURL: String?
    /// The model vector stores embed their chunks and queries with.
    package var embeddingModel = "text-embedding-3-small"
    /// Chunks embedded in one upstream call.
    package var embeddingBatch = 256
    /// The most prompts in one `POST /api/tasks`.
    package var maxPrompts = 50_000
    /// The most characters in one prompt, its messages together.
    package var maxPromptLength = 1_000_000
    /// The highest `max_tokens` a request may ask for.
    package var maxTokensLimit = 1_000_000
    /// Signs every webhook delivery (HMAC-SHA256); without one, `webhook_url` is refused.
    /// Never logged or answered.
    package var webhookSecret: String?
    /// Seconds one webhook POST may take.
    package var webhookTimeout = 10.0
    /// POSTs of one webhook at most, the first included.
    package var webhookMaxAttempts = 12
    /// Seconds before the second POST of a webhook; doubles after each failure.
    package var webhookRetryDelay = 1.0
    /// Host names, addresses and blocks a webhook may reach although they are inside
    /// (loopback, private, link-local, …); nothing by default.
    package var webhookAllowHosts = WebhookAddressPolicy()
    package var logLevel = Logger.Level.info
    package var logFormat = LogFormat.text

    /// Who shares the response cache's entries.
    package enum CacheScope: String, Sendable, CaseIterable {
        /// Each API key its own entries: no key learns, from a hit or its speed, what another asked.
        case key
        /// Every caller shares every entry (one key's answer may serve another's question).
        case global
    }

    /// How log lines are written.
    package enum LogFormat: String, Sendable, CaseIterable {
        /// Readable lines.
        case text
        /// One JSON object per line (``JSONLogHandler``).
        case json
    }

    package init() {}

    /// The host name, the process id and a random suffix.
    package static var defaultInstanceID: String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "promptline"
        return "\(host)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(4).lowercased())"
    }

    /// 2 × cores, at least 4.
    package static var defaultWorkers: Int { max(4, 2 * ProcessInfo.processInfo.activeProcessorCount) }

    /// Checks that hold across settings.
    func problems() -> [String] {
        var problems: [String] = []
        if let url = URL(string: upstreamURL), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil {
        } else {
            problems.append("\(Setting.upstreamURL.named): '\(upstreamURL)' is not an http(s) URL such as https://api.openai.com/v1")
        }
        if let redisURL {
            do {
                _ = try RedisConfiguration(url: redisURL)
            } catch {
                problems.append("REDIS_HOST / REDIS_PORT / REDIS_DB: they do not make a valid Redis address (\(error.reason)); fix them or set REDIS_URL")
            }
        }
        if maxTokens > maxTokensLimit {
            problems.append("\(Setting.maxTokens.flag) (\(maxTokens)) must not exceed \(Setting.maxTokensLimit.flag) (\(maxTokensLimit))")
        }
        if retryBaseDelay > retryMaxDelay {
            problems.append("\(Setting.retryBaseDelay.flag) (\(retryBaseDelay)) must not exceed \(Setting.retryMaxDelay.flag) (\(retryMaxDelay))")
        }
        return problems
    }

    static func redisURL(host: String, port: String?, db: String?, password: String?) -> String {
        let auth = password.map { ":\($0.addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed) ?? $0)@" } ?? ""
        return "redis://\(auth)\(host):\(port ?? "6379")/\(db ?? "0")"
    }
}

/// The problems that keep the server from starting, one line each.
package struct SettingsError: Error, Equatable, CustomStringConvertible {
    package var problems: [String]

    package init(problems: [String]) {
        self.problems = problems
    }

    package var description: String { problems.joined(separator: "\n") }
}

extension ServerSettings {
    /// How long finished tasks stay readable.
    var retention: RetentionPolicy {
        RetentionPolicy(statusTTL: .seconds(statusTTL), resultTTL: .seconds(resultTTL))
    }
}
