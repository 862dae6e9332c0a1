import Foundation
import Hummingbird
import PromptlineCore
import Synchronization

/// Who may call, and how much: finds the API key of a request and applies its limits.
///
/// Keys are looked up in the store and remembered for a second, so a new key works, and a
/// revoked one stops working, within a second on every instance.
package final class AccessControl: Sendable {
    let keys: KeyRing
    let meter: any UsageMeter
    let tasks: any TaskStore
    private let remembered: Duration
    private let cache = Mutex(Cache())

    private struct Cache {
        var anyKeys: (value: Bool, until: ContinuousClock.Instant)?
        /// By the hex hash of the secret presented, never the secret.
        var keys: [String: (key: APIKey?, until: ContinuousClock.Instant)] = [:]
    }

    package init(keys: KeyRing, meter: any UsageMeter, tasks: any TaskStore, remembered: Duration = .seconds(1)) {
        self.keys = keys
        self.meter = meter
        self.tasks = tasks
        self.remembered = remembered
    }

    /// The key a request names in `Authorization: Bearer …`; `nil` when the server has no
    /// keys. Throws 401 when keys exist and the request has none, or an unknown one.
    func caller(of request: Request) async throws -> APIKey? {
        guard try await anyKeys() else { return nil }
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw Self.unauthorized("this server needs an API key: send it as Authorization: Bearer KEY")
        }
        let secret = header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        guard let key = try await key(forSecret: secret) else {
            throw Self.unauthorized("the API key is not valid (unknown or revoked)")
        }
        return key
    }

    /// Counts one request against the key's requests per minute.
    func admitRequest(by key: APIKey) async throws {
        guard let limit = key.limits.requestsPerMinute else { return }
        let decision = try await meter.consume(1, of: "\(key.id):requests", limit: limit, window: .seconds(60))
        guard decision.admitted else {
            throw Self.tooMany(
                "rate limit: key '\(key.name)' has made \(decision.used) requests this minute, its limit is \(limit) per minute "
                    + "(set with `promptline keys create --rpm`)",
                retryAfter: decision.resetsIn
            )
        }
    }

    /// Checks, then counts, work the key asks for: `tasks` new tasks against its tasks in
    /// flight, and `tokens` (an estimate, see ``TokenEstimate``) against its tokens per minute.
    func admitWork(by key: APIKey?, tasks count: Int, tokens: Int) async throws {
        guard let key else { return }
        if let limit = key.limits.maxInFlight, count > 0 {
            guard count <= limit else {
                throw APIError(.contentTooLarge, "this submission has \(count) tasks, more than key '\(key.name)' may have in flight (\(limit), set with `promptline keys create --max-in-flight`); split it")
            }
            let unfinished = try await tasks.unfinishedCount(owner: key.id)
            guard unfinished + count <= limit else {
                throw Self.tooMany(
                    "in-flight limit: key '\(key.name)' has \(unfinished) unfinished tasks and may have \(limit) "
                        + "(set with `promptline keys create --max-in-flight`); \(count) more do not fit",
                    retryAfter: .seconds(1)
                )
            }
        }
        if let limit = key.limits.tokensPerMinute, tokens > 0 {
            guard tokens <= limit else {
                throw APIError(.contentTooLarge, "this request needs about \(tokens) tokens, more than key '\(key.name)' may use in a minute (\(limit), set with `promptline keys create --tpm`); split it")
            }
            let decision = try await meter.consume(tokens, of: "\(key.id):tokens", limit: limit, window: .seconds(60))
            guard decision.admitted else {
                throw Self.tooMany(
                    "token limit: key '\(key.name)' has used about \(decision.used) tokens this minute, its limit is \(limit) per minute "
                        + "(set with `promptline keys create --tpm`); this request needs about \(tokens)",
                    retryAfter: decision.resetsIn
                )
            }
        }
    }

    /// Whether any key exists; an open server says so loudly at start-up.
    package func anyKeys() async throws -> Bool {
        let now = ContinuousClock.now
        if let known = cache.withLock({ $0.anyKeys }), known.until > now { return known.value }
        let value = try await !keys.isEmpty()
        cache.withLock { $0.anyKeys = (value, now + remembered) }
        return value
    }

    private func key(forSecret secret: String) async throws -> APIKey? {
        let hash = APIKey.hash(ofSecret: secret).hexString
        let now = ContinuousClock.now
        if let known = cache.withLock({ $0.keys[hash] }), known.until > now { return known.key }
        let key = try await keys.key(forSecret: secret)
        cache.withLock { cache in
            // Unknown keys are remembered too; a flood of them empties the map, never grows it past this.
            if cache.keys.count >= 10_000 { cache.keys.removeAll(keepingCapacity: true) }
            cache.keys[hash] = (key, now + remembered)
        }
        return key
    }

    static func unauthorized(_ message: String) -> APIError {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = "Bearer"
        return APIError(.unauthorized, message, headers: headers)
    }

    static func tooMany(_ message: String, retryAfter: Duration) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(max(1, Int(retryAfter.seconds.rounded(.up))))
        return APIError(.tooManyRequests, message, headers: headers)
    }
}

/// Authenticates every `/api` and `/v1` request and counts it against its key's requests per
/// minute. Health, metrics and documentation routes stay open.
struct AccessMiddleware: RouterMiddleware {
    let access: AccessControl
    /// Whether `/metrics` is one of the whole-server views (`--metrics-key-required`).
    var metricsKeyRequired = false

    /// Views of the whole server: only an admin key may read them (when keys exist).
    static let adminPaths: Set<String> = ["/api/cluster", "/api/cache"]

    func handle(
        _ request: Request, context: PromptlineRequestContext,
        next: (Request, PromptlineRequestContext) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        let guarded = path.hasPrefix("/api/") || path == "/api" || path.hasPrefix("/v1/") || path == "/v1"
            || (metricsKeyRequired && path == "/metrics")
        guard guarded else { return try await next(request, context) }
        var context = context
        context.caller = try await access.caller(of: request)
        if let caller = context.caller {
            if !caller.admin, Self.adminPaths.contains(path) || path == "/metrics" {
                throw APIError(.forbidden, "\(path) shows the whole server: it needs an admin key (promptline keys create --admin)")
            }
            try await access.admitRequest(by: caller)
            context.logger[metadataKey: "key"] = .string(caller.id)
        }
        return try await next(request, context)
    }
}
