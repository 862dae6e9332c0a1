import Foundation
import Logging
import RedisClient

/// Every setting of `promptline serve`, resolved from flags, the environment and `.env`.
public struct ServerSettings: Sendable, Equatable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (the server prints the one it got).
    public var port = 8000
    public var upstreamURL = "https://api.openai.com/v1"
    /// Sent as `Authorization: Bearer`; never logged, stored or answered.
    public var upstreamAPIKey: String?
    public var model = "gpt-3.5-turbo"
    public var maxTokens = 100
    public var temperature = 0.7
    public var workers = ServerSettings.defaultWorkers
    public var dataDir = "./promptline-data"
    public var redisURL: String?
    /// Put before every Redis key, so that several deployments can share one Redis.
    public var redisPrefix = ""
    /// This instance's name in the cluster heartbeats.
    public var instanceID = ServerSettings.defaultInstanceID
    /// Seconds between two heartbeats.
    public var heartbeatInterval = 5.0
    /// Seconds, per attempt and per gap between streamed tokens.
    public var upstreamTimeout = 30.0
    public var upstreamStreaming = true
    public var maxAttempts = 5
    public var retryBaseDelay = 0.5
    public var retryMaxDelay = 30.0
    public var lease = 60.0
    public var statusTTL = 86_400.0
    public var resultTTL = 604_800.0
    public var shutdownGrace = 30.0
    public var maxBodySize = 32 * 1024 * 1024
    /// Seconds an answer stays in the response cache; 0 turns the cache off.
    public var cacheTTL = 3_600.0
    /// The most requests in one Batch API input file.
    public var batchMaxRequests = 50_000
    /// The largest Batch API input file, in bytes.
    public var batchMaxFileSize = 200 * 1024 * 1024
    /// The most prompts in one `POST /api/tasks`.
    public var maxPrompts = 50_000
    /// The most characters in one prompt, its messages together.
    public var maxPromptLength = 1_000_000
    /// The highest `max_tokens` a request may ask for.
    public var maxTokensLimit = 1_000_000
    /// Signs every webhook delivery (HMAC-SHA256); without one, `webhook_url` is refused.
    /// Never logged or answered.
    public var webhookSecret: String?
    /// Seconds one webhook POST may take.
    public var webhookTimeout = 10.0
    /// POSTs of one webhook at most, the first included.
    public var webhookMaxAttempts = 12
    /// Seconds before the second POST of a webhook; doubles after each failure.
    public var webhookRetryDelay = 1.0
    public var logLevel = Logger.Level.info
    public var logFormat = LogFormat.text

    /// How log lines are written.
    public enum LogFormat: String, Sendable, CaseIterable {
        /// Readable lines.
        case text
        /// One JSON object per line (``JSONLogHandler``).
        case json
    }

    public init() {}

    /// The host name, the process id and a random suffix.
    public static var defaultInstanceID: String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "promptline"
        return "\(host)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(4).lowercased())"
    }

    /// 2 × cores, at least 4.
    public static var defaultWorkers: Int { max(4, 2 * ProcessInfo.processInfo.activeProcessorCount) }

    /// Resolves the settings: a flag wins over the environment, which wins over `.env`
    /// (merge those two into `environment` with ``DotEnv``), which wins over the default.
    /// Answers every problem found, one line each, rather than the first.
    public static func resolve(flags: [Setting: String], environment: [String: String]) -> Result<ServerSettings, SettingsError> {
        var settings = ServerSettings()
        var problems: [String] = []
        for setting in Setting.allCases {
            let source: String
            let raw: String
            if let value = flags[setting] {
                (source, raw) = ("--\(setting.rawValue)", value)
            } else if let name = setting.environment.first(where: { environment[$0] != nil }), let value = environment[name] {
                (source, raw) = (name, value)
            } else {
                continue
            }
            do {
                try setting.apply(raw.trimmingCharacters(in: .whitespaces), to: &settings)
            } catch {
                problems.append("\(source): \(error.reason)")
            }
        }
        if flags[.redisURL] == nil, environment["REDIS_URL"] == nil, let host = environment["REDIS_HOST"] {
            settings.redisURL = redisURL(host: host, port: environment["REDIS_PORT"], db: environment["REDIS_DB"], password: environment["REDIS_PASSWORD"])
        }
        problems += settings.problems()
        return problems.isEmpty ? .success(settings) : .failure(SettingsError(problems: problems))
    }

    /// Checks that hold across settings.
    func problems() -> [String] {
        var problems: [String] = []
        if let url = URL(string: upstreamURL), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil {
        } else {
            problems.append("--upstream-url / OPENAI_BASE_URL: '\(upstreamURL)' is not an http(s) URL such as https://api.openai.com/v1")
        }
        if let redisURL {
            do {
                _ = try RedisConfiguration(url: redisURL)
            } catch {
                problems.append("REDIS_HOST / REDIS_PORT / REDIS_DB: they do not make a valid Redis address (\(error.reason)); fix them or set REDIS_URL")
            }
        }
        if maxTokens > maxTokensLimit {
            problems.append("--max-tokens (\(maxTokens)) must not exceed --max-tokens-limit (\(maxTokensLimit))")
        }
        if retryBaseDelay > retryMaxDelay {
            problems.append("--retry-base-delay (\(retryBaseDelay)) must not exceed --retry-max-delay (\(retryMaxDelay))")
        }
        return problems
    }

    static func redisURL(host: String, port: String?, db: String?, password: String?) -> String {
        let auth = password.map { ":\($0.addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed) ?? $0)@" } ?? ""
        return "redis://\(auth)\(host):\(port ?? "6379")/\(db ?? "0")"
    }
}

/// The problems that keep the server from starting, one line each.
public struct SettingsError: Error, CustomStringConvertible {
    public var problems: [String]
    public var description: String { problems.joined(separator: "\n") }
}

/// Why one setting's value was refused.
public struct SettingProblem: Error {
    public var reason: String
}

/// One setting: its flag, its environment variables, its help and how it is read.
public enum Setting: String, CaseIterable, Sendable {
    case host
    case port
    case upstreamURL = "upstream-url"
    case upstreamAPIKey = "upstream-api-key"
    case model
    case maxTokens = "max-tokens"
    case temperature
    case workers
    case dataDir = "data-dir"
    case redisURL = "redis-url"
    case redisPrefix = "redis-prefix"
    case instanceID = "instance-id"
    case heartbeatInterval = "heartbeat-interval"
    case upstreamTimeout = "upstream-timeout"
    case upstreamStreaming = "upstream-streaming"
    case maxAttempts = "max-attempts"
    case retryBaseDelay = "retry-base-delay"
    case retryMaxDelay = "retry-max-delay"
    case lease
    case statusTTL = "status-ttl"
    case resultTTL = "result-ttl"
    case shutdownGrace = "shutdown-grace"
    case maxBodySize = "max-body-size"
    case cacheTTL = "cache-ttl"
    case batchMaxRequests = "batch-max-requests"
    case batchMaxFileSize = "batch-max-file-size"
    case maxPrompts = "max-prompts"
    case maxPromptLength = "max-prompt-length"
    case maxTokensLimit = "max-tokens-limit"
    case webhookSecret = "webhook-secret"
    case webhookTimeout = "webhook-timeout"
    case webhookMaxAttempts = "webhook-max-attempts"
    case webhookRetryDelay = "webhook-retry-delay"
    case logLevel = "log-level"
    case logFormat = "log-format"

    /// The environment variables that set it, first one present wins.
    public var environment: [String] {
        switch self {
        case .host: ["PROMPTLINE_HOST"]
        case .port: ["PROMPTLINE_PORT"]
        case .upstreamURL: ["OPENAI_BASE_URL"]
        case .upstreamAPIKey: ["OPENAI_API_KEY"]
        case .model: ["PROMPTLINE_MODEL"]
        case .maxTokens: ["PROMPTLINE_MAX_TOKENS"]
        case .temperature: ["PROMPTLINE_TEMPERATURE"]
        case .workers: ["NUM_WORKERS"]
        case .dataDir: ["PROMPTLINE_DATA_DIR"]
        case .redisURL: ["REDIS_URL"]
        case .redisPrefix: ["PROMPTLINE_REDIS_PREFIX"]
        case .instanceID: ["PROMPTLINE_INSTANCE_ID"]
        case .heartbeatInterval: ["PROMPTLINE_HEARTBEAT_INTERVAL"]
        case .upstreamTimeout: ["PROMPTLINE_UPSTREAM_TIMEOUT"]
        case .upstreamStreaming: ["PROMPTLINE_UPSTREAM_STREAMING"]
        case .maxAttempts: ["PROMPTLINE_MAX_ATTEMPTS"]
        case .retryBaseDelay: ["PROMPTLINE_RETRY_BASE_DELAY"]
        case .retryMaxDelay: ["PROMPTLINE_RETRY_MAX_DELAY"]
        case .lease: ["PROMPTLINE_LEASE"]
        case .statusTTL: ["PROMPTLINE_STATUS_TTL"]
        case .resultTTL: ["PROMPTLINE_RESULT_TTL"]
        case .shutdownGrace: ["PROMPTLINE_SHUTDOWN_GRACE"]
        case .maxBodySize: ["PROMPTLINE_MAX_BODY_SIZE"]
        case .cacheTTL: ["PROMPTLINE_CACHE_TTL"]
        case .batchMaxRequests: ["PROMPTLINE_BATCH_MAX_REQUESTS"]
        case .batchMaxFileSize: ["PROMPTLINE_BATCH_MAX_FILE_SIZE"]
        case .maxPrompts: ["PROMPTLINE_MAX_PROMPTS"]
        case .maxPromptLength: ["PROMPTLINE_MAX_PROMPT_LENGTH"]
        case .maxTokensLimit: ["PROMPTLINE_MAX_TOKENS_LIMIT"]
        case .webhookSecret: ["PROMPTLINE_WEBHOOK_SECRET"]
        case .webhookTimeout: ["PROMPTLINE_WEBHOOK_TIMEOUT"]
        case .webhookMaxAttempts: ["PROMPTLINE_WEBHOOK_MAX_ATTEMPTS"]
        case .webhookRetryDelay: ["PROMPTLINE_WEBHOOK_RETRY_DELAY"]
        case .logLevel: ["PROMPTLINE_LOG_LEVEL", "LOG_LEVEL"]
        case .logFormat: ["PROMPTLINE_LOG_FORMAT"]
        }
    }

    /// The flag and the first environment variable, for messages that say how to change it.
    public var named: String {
        "--\(rawValue) / \(environment[0])"
    }

    /// The help line `serve --help` shows.
    public var help: String {
        let what: String = switch self {
        case .host: "Address to listen on. Default: 127.0.0.1."
        case .port: "Port to listen on (0 picks a free one). Default: 8000."
        case .upstreamURL: "Base URL of the OpenAI-compatible API. Default: https://api.openai.com/v1."
        case .upstreamAPIKey: "API key sent upstream as Authorization: Bearer. Default: none."
        case .model: "Model for prompts that name none. Default: gpt-3.5-turbo."
        case .maxTokens: "max_tokens for prompts that give none. Default: 100."
        case .temperature: "temperature for prompts that give none. Default: 0.7."
        case .workers: "Upstream calls in flight at once; 0 takes tasks but runs none. Default: 2 × cores, at least 4."
        case .dataDir: "Directory of the embedded store. Default: ./promptline-data."
        case .redisURL: "Redis store URL, redis://[:password@]host[:port][/db] or rediss:// for TLS (also REDIS_HOST/REDIS_PORT/REDIS_DB/REDIS_PASSWORD). Default: unset, embedded store."
        case .redisPrefix: "Put before every Redis key, so deployments can share one Redis. Default: none."
        case .instanceID: "This instance's id in the cluster heartbeats. Default: host-pid-random."
        case .heartbeatInterval: "Seconds between cluster heartbeats; an instance silent for 3 intervals is gone. Default: 5."
        case .upstreamTimeout: "Seconds per upstream attempt and per gap between streamed tokens. Default: 30."
        case .upstreamStreaming: "Ask the upstream to stream (progress, token-gap timeout): true or false. Default: true."
        case .maxAttempts: "Deliveries of a task at most, the first included. Default: 5."
        case .retryBaseDelay: "Seconds before the first retry; doubles each time, with jitter. Default: 0.5."
        case .retryMaxDelay: "Longest wait between retries, in seconds. Default: 30."
        case .lease: "Seconds a worker holds a task before it may be taken up again. Default: 60."
        case .statusTTL: "Seconds a failed or cancelled task stays readable. Default: 86400."
        case .resultTTL: "Seconds a completed task and its result stay readable. Default: 604800."
        case .shutdownGrace: "Seconds in-flight tasks may finish after SIGTERM. Default: 30."
        case .maxBodySize: "Largest request body, in bytes. Default: 33554432 (32 MiB)."
        case .cacheTTL: "Seconds an answer stays in the exact-match response cache; 0 turns the cache off. Default: 3600."
        case .batchMaxRequests: "Most requests in one Batch API input file. Default: 50000."
        case .batchMaxFileSize: "Largest Batch API input file, in bytes. Default: 209715200 (200 MiB)."
        case .maxPrompts: "Most prompts in one POST /api/tasks. Default: 50000."
        case .maxPromptLength: "Most characters in one prompt, its messages together. Default: 1000000."
        case .maxTokensLimit: "Highest max_tokens a request may ask for. Default: 1000000."
        case .webhookSecret: "Key that signs webhook deliveries (HMAC-SHA256, header X-Promptline-Signature); without it, submissions with webhook_url are refused. Default: none."
        case .webhookTimeout: "Seconds one webhook POST may take. Default: 10."
        case .webhookMaxAttempts: "POSTs of one webhook at most, the first included, before it is given up. Default: 12."
        case .webhookRetryDelay: "Seconds before a webhook's second POST; doubles after each failure, at most an hour. Default: 1."
        case .logLevel: "trace, debug, info, notice, warning, error or critical. Default: info."
        case .logFormat: "text (readable lines) or json (one JSON object per line, with task_id and request_id). Default: text."
        }
        return "\(what) Env: \(environment.joined(separator: ", "))."
    }

    func apply(_ raw: String, to settings: inout ServerSettings) throws(SettingProblem) {
        switch self {
        case .host: settings.host = try Self.nonEmpty(raw)
        case .port: settings.port = try Self.integer(raw, in: 0...65_535)
        case .upstreamURL: settings.upstreamURL = try Self.nonEmpty(raw)
        case .upstreamAPIKey: settings.upstreamAPIKey = raw.isEmpty ? nil : raw
        case .model: settings.model = try Self.nonEmpty(raw)
        case .maxTokens: settings.maxTokens = try Self.integer(raw, in: 1...1_000_000)
        case .temperature: settings.temperature = try Self.number(raw, in: 0...2)
        case .workers: settings.workers = try Self.integer(raw, in: 0...100_000)
        case .dataDir: settings.dataDir = try Self.nonEmpty(raw)
        case .redisURL:
            if !raw.isEmpty {
                do {
                    _ = try RedisConfiguration(url: raw)
                } catch {
                    throw SettingProblem(reason: error.description)
                }
            }
            settings.redisURL = raw.isEmpty ? nil : raw
        case .redisPrefix: settings.redisPrefix = raw
        case .instanceID: settings.instanceID = try Self.nonEmpty(raw)
        case .heartbeatInterval: settings.heartbeatInterval = try Self.number(raw, in: 0.05...3_600)
        case .upstreamTimeout: settings.upstreamTimeout = try Self.number(raw, in: 0.001...86_400)
        case .upstreamStreaming: settings.upstreamStreaming = try Self.boolean(raw)
        case .maxAttempts: settings.maxAttempts = try Self.integer(raw, in: 1...100)
        case .retryBaseDelay: settings.retryBaseDelay = try Self.number(raw, in: 0...3_600)
        case .retryMaxDelay: settings.retryMaxDelay = try Self.number(raw, in: 0...86_400)
        case .lease: settings.lease = try Self.number(raw, in: 0.1...86_400)
        case .statusTTL: settings.statusTTL = try Self.number(raw, in: 1...31_536_000)
        case .resultTTL: settings.resultTTL = try Self.number(raw, in: 1...31_536_000)
        case .shutdownGrace: settings.shutdownGrace = try Self.number(raw, in: 0...3_600)
        case .maxBodySize: settings.maxBodySize = try Self.integer(raw, in: 1_024...1_073_741_824)
        case .cacheTTL: settings.cacheTTL = try Self.number(raw, in: 0...31_536_000)
        case .batchMaxRequests: settings.batchMaxRequests = try Self.integer(raw, in: 1...1_000_000)
        case .batchMaxFileSize: settings.batchMaxFileSize = try Self.integer(raw, in: 1_024...1_073_741_824)
        case .maxPrompts: settings.maxPrompts = try Self.integer(raw, in: 1...1_000_000)
        case .maxPromptLength: settings.maxPromptLength = try Self.integer(raw, in: 1...100_000_000)
        case .maxTokensLimit: settings.maxTokensLimit = try Self.integer(raw, in: 1...10_000_000)
        case .webhookSecret: settings.webhookSecret = raw.isEmpty ? nil : raw
        case .webhookTimeout: settings.webhookTimeout = try Self.number(raw, in: 0.001...3_600)
        case .webhookMaxAttempts: settings.webhookMaxAttempts = try Self.integer(raw, in: 1...100)
        case .webhookRetryDelay: settings.webhookRetryDelay = try Self.number(raw, in: 0...3_600)
        case .logLevel:
            guard let level = Logger.Level(rawValue: raw.lowercased()) else {
                throw SettingProblem(reason: "'\(raw)' is not a log level (trace, debug, info, notice, warning, error, critical)")
            }
            settings.logLevel = level
        case .logFormat:
            guard let format = ServerSettings.LogFormat(rawValue: raw.lowercased()) else {
                throw SettingProblem(reason: "'\(raw)' is not a log format (text, json)")
            }
            settings.logFormat = format
        }
    }

    private static func nonEmpty(_ raw: String) throws(SettingProblem) -> String {
        guard !raw.isEmpty else { throw SettingProblem(reason: "must not be empty") }
        return raw
    }

    private static func integer(_ raw: String, in range: ClosedRange<Int>) throws(SettingProblem) -> Int {
        guard let value = Int(raw) else { throw SettingProblem(reason: "'\(raw)' is not a whole number") }
        guard range.contains(value) else { throw SettingProblem(reason: "\(value) is out of range (\(range.lowerBound) to \(range.upperBound))") }
        return value
    }

    private static func number(_ raw: String, in range: ClosedRange<Double>) throws(SettingProblem) -> Double {
        guard let value = Double(raw), value.isFinite else { throw SettingProblem(reason: "'\(raw)' is not a number") }
        guard range.contains(value) else { throw SettingProblem(reason: "\(raw) is out of range (\(range.lowerBound) to \(range.upperBound))") }
        return value
    }

    private static func boolean(_ raw: String) throws(SettingProblem) -> Bool {
        switch raw.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw SettingProblem(reason: "'\(raw)' is not true or false")
        }
    }
}
