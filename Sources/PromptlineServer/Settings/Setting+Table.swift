import Logging
import RedisClient

/// The settings of `promptline serve`, each described once; `docs/configuration.md` is
/// generated from this list (see ``Setting/reference``).
extension Setting {
    package static let all: [Setting] = [
        host, port, upstreamURL, upstreamAPIKey, model, maxTokens, temperature, workers, dataDir, redisURL, redisPrefix,
        instanceID, heartbeatInterval, upstreamTimeout, upstreamStreaming, maxAttempts, retryBaseDelay, retryMaxDelay,
        lease, statusTTL, resultTTL, shutdownGrace, maxBodySize, cacheTTL, cacheScope, metricsKeyRequired, batchMaxRequests, batchMaxFileSize, maxPrompts,
        documentMaxSize, documentMaxPages, extractWorkers, extractTimeout, vectorURL, embeddingModel, embeddingBatch,
        maxPromptLength, maxTokensLimit, webhookSecret, webhookTimeout, webhookMaxAttempts, webhookRetryDelay, webhookAllowHosts,
        logLevel,
        logFormat,
    ]

    // MARK: Listening

    package static let host = text("host", \.host, env: ["PROMPTLINE_HOST"], "Address to listen on.")
    package static let port = integer(
        "port", \.port, env: ["PROMPTLINE_PORT"], in: 0...65_535, "Port to listen on (0 picks a free one)."
    )

    // MARK: The upstream

    package static let upstreamURL = text(
        "upstream-url", \.upstreamURL, env: ["OPENAI_BASE_URL"], "Base URL of the OpenAI-compatible API."
    )
    package static let upstreamAPIKey = optionalText(
        "upstream-api-key", \.upstreamAPIKey, env: ["OPENAI_API_KEY"],
        "API key sent upstream as Authorization: Bearer; never logged, stored or answered.", secret: true
    )
    package static let model = text("model", \.model, env: ["PROMPTLINE_MODEL"], "Model for prompts that name none.")
    package static let maxTokens = integer(
        "max-tokens", \.maxTokens, env: ["PROMPTLINE_MAX_TOKENS"], in: 1...1_000_000, "max_tokens for prompts that give none."
    )
    package static let temperature = number(
        "temperature", \.temperature, env: ["PROMPTLINE_TEMPERATURE"], in: 0...2, "temperature for prompts that give none."
    )
    package static let upstreamTimeout = number(
        "upstream-timeout", \.upstreamTimeout, env: ["PROMPTLINE_UPSTREAM_TIMEOUT"], in: 0.001...86_400,
        "Seconds per upstream attempt and per gap between streamed tokens."
    )
    package static let upstreamStreaming = boolean(
        "upstream-streaming", \.upstreamStreaming, env: ["PROMPTLINE_UPSTREAM_STREAMING"],
        "Ask the upstream to stream (progress, token-gap timeout): true or false."
    )

    // MARK: Workers and retries

    package static let workers = integer(
        "workers", \.workers, env: ["NUM_WORKERS"], in: 0...100_000,
        "Upstream calls in flight at once; 0 takes tasks but runs none.", default: "2 × cores, at least 4"
    )
    package static let maxAttempts = integer(
        "max-attempts", \.maxAttempts, env: ["PROMPTLINE_MAX_ATTEMPTS"], in: 1...100,
        "Deliveries of a task at most, the first included."
    )
    package static let retryBaseDelay = number(
        "retry-base-delay", \.retryBaseDelay, env: ["PROMPTLINE_RETRY_BASE_DELAY"], in: 0...3_600,
        "Seconds before the first retry; doubles each time, with jitter."
    )
    package static let retryMaxDelay = number(
        "retry-max-delay", \.retryMaxDelay, env: ["PROMPTLINE_RETRY_MAX_DELAY"], in: 0...86_400,
        "Longest wait between retries, in seconds."
    )
    package static let lease = number(
        "lease", \.lease, env: ["PROMPTLINE_LEASE"], in: 0.1...86_400,
        "Seconds a worker holds a task before it may be taken up again."
    )
    package static let shutdownGrace = number(
        "shutdown-grace", \.shutdownGrace, env: ["PROMPTLINE_SHUTDOWN_GRACE"], in: 0...3_600,
        "Seconds in-flight tasks may finish after SIGTERM."
    )

    // MARK: The store

    package static let dataDir = text(
        "data-dir", \.dataDir, env: ["PROMPTLINE_DATA_DIR"], "Directory of the embedded store."
    )
    package static let redisURL = optionalText(
        "redis-url", \.redisURL, env: ["REDIS_URL"],
        "Redis store URL, redis://[:password@]host[:port][/db] or rediss:// for TLS (also REDIS_HOST/REDIS_PORT/REDIS_DB/REDIS_PASSWORD).",
        default: "unset, the embedded store",
        check: { raw throws(SettingProblem) in
            do {
                _ = try RedisConfiguration(url: raw)
            } catch {
                throw SettingProblem(reason: "\(error)")
            }
        },
        // The password shows as ***.
        show: { url in (try? RedisConfiguration(url: url)).map(String.init(describing:)) ?? "(unreadable)" }
    )
    package static let redisPrefix = text(
        "redis-prefix", \.redisPrefix, env: ["PROMPTLINE_REDIS_PREFIX"],
        "Put before every Redis key, so deployments can share one Redis.", allowEmpty: true
    )
    package static let instanceID = text(
        "instance-id", \.instanceID, env: ["PROMPTLINE_INSTANCE_ID"], "This instance's id in the cluster heartbeats.",
        default: "host-pid-random"
    )
    package static let heartbeatInterval = number(
        "heartbeat-interval", \.heartbeatInterval, env: ["PROMPTLINE_HEARTBEAT_INTERVAL"], in: 0.05...3_600,
        "Seconds between cluster heartbeats; an instance silent for 3 intervals is gone."
    )
    package static let statusTTL = number(
        "status-ttl", \.statusTTL, env: ["PROMPTLINE_STATUS_TTL"], in: 1...31_536_000,
        "Seconds a failed or cancelled task stays readable."
    )
    package static let resultTTL = number(
        "result-ttl", \.resultTTL, env: ["PROMPTLINE_RESULT_TTL"], in: 1...31_536_000,
        "Seconds a completed task and its result stay readable."
    )

    // MARK: Limits

    package static let maxBodySize = integer(
        "max-body-size", \.maxBodySize, env: ["PROMPTLINE_MAX_BODY_SIZE"], in: 1_024...1_073_741_824,
        "Largest request body, in bytes.", default: "33554432 (32 MiB)"
    )
    package static let batchMaxRequests = integer(
        "batch-max-requests", \.batchMaxRequests, env: ["PROMPTLINE_BATCH_MAX_REQUESTS"], in: 1...1_000_000,
        "Most requests in one Batch API input file."
    )
    package static let batchMaxFileSize = integer(
        "batch-max-file-size", \.batchMaxFileSize, env: ["PROMPTLINE_BATCH_MAX_FILE_SIZE"], in: 1_024...1_073_741_824,
        "Largest Batch API input file, in bytes.", default: "209715200 (200 MiB)"
    )
    package static let documentMaxSize = integer(
        "document-max-size", \.documentMaxSize, env: ["PROMPTLINE_DOCUMENT_MAX_SIZE"], in: 1_024...1_073_741_824,
        "Largest document (a file of purpose user_data or assistants), in bytes.", default: "52428800 (50 MiB)"
    )
    package static let documentMaxPages = integer(
        "document-max-pages", \.documentMaxPages, env: ["PROMPTLINE_DOCUMENT_MAX_PAGES"], in: 1...1_000_000,
        "Most pages of a PDF that is summarised; a longer one fails with the limit named."
    )
    package static let extractWorkers = integer(
        "extract-workers", \.extractWorkers, env: ["PROMPTLINE_EXTRACT_WORKERS"], in: 1...1_024,
        "Text extractions (pdftotext, HTML) at once.", default: "cores"
    )
    package static let extractTimeout = number(
        "extract-timeout", \.extractTimeout, env: ["PROMPTLINE_EXTRACT_TIMEOUT"], in: 0.1...86_400,
        "Seconds one extraction may take; a pdftotext still running is killed."
    )

    // MARK: Knowledge

    package static let vectorURL = optionalText(
        "vector-url", \.vectorURL, env: ["PROMPTLINE_VECTOR_URL"],
        "Vector index shared by every instance: postgres://user[:password]@host[:port]/db with pgvector.",
        default: "unset, the data directory",
        check: { raw throws(SettingProblem) in
            guard raw.hasPrefix("postgres://") || raw.hasPrefix("postgresql://") else {
                throw SettingProblem(reason: "a postgres:// URL")
            }
        },
        // The password shows as ***.
        show: { url in url.replacing(/:[^:@\/]*@/, with: ":***@") }
    )
    package static let embeddingModel = text(
        "embedding-model", \.embeddingModel, env: ["PROMPTLINE_EMBEDDING_MODEL"], "Model vector stores embed chunks and queries with."
    )
    package static let embeddingBatch = integer(
        "embedding-batch", \.embeddingBatch, env: ["PROMPTLINE_EMBEDDING_BATCH"], in: 1...2_048,
        "Chunks embedded in one upstream call (one task on the queue)."
    )

    package static let maxPrompts = integer(
        "max-prompts", \.maxPrompts, env: ["PROMPTLINE_MAX_PROMPTS"], in: 1...1_000_000, "Most prompts in one POST /api/tasks."
    )
    package static let maxPromptLength = integer(
        "max-prompt-length", \.maxPromptLength, env: ["PROMPTLINE_MAX_PROMPT_LENGTH"], in: 1...100_000_000,
        "Most characters in one prompt, its messages together."
    )
    package static let maxTokensLimit = integer(
        "max-tokens-limit", \.maxTokensLimit, env: ["PROMPTLINE_MAX_TOKENS_LIMIT"], in: 1...10_000_000,
        "Highest max_tokens a request may ask for."
    )

    // MARK: The response cache

    package static let cacheTTL = number(
        "cache-ttl", \.cacheTTL, env: ["PROMPTLINE_CACHE_TTL"], in: 0...31_536_000,
        "Seconds an answer stays in the exact-match response cache; 0 turns the cache off."
    )
    package static let cacheScope = choice(
        "cache-scope", \.cacheScope, env: ["PROMPTLINE_CACHE_SCOPE"],
        "key: each API key has its own cache entries, so none learns what another asked; global: every caller shares them.",
        what: "a cache scope"
    )
    package static let metricsKeyRequired = boolean(
        "metrics-key-required", \.metricsKeyRequired, env: ["PROMPTLINE_METRICS_KEY_REQUIRED"],
        "Whether /metrics needs an admin key (when keys exist): true or false."
    )

    // MARK: Webhooks

    package static let webhookSecret = optionalText(
        "webhook-secret", \.webhookSecret, env: ["PROMPTLINE_WEBHOOK_SECRET"],
        "Key that signs webhook deliveries (HMAC-SHA256, header X-Promptline-Signature); without it, submissions with webhook_url are refused.",
        secret: true
    )
    package static let webhookTimeout = number(
        "webhook-timeout", \.webhookTimeout, env: ["PROMPTLINE_WEBHOOK_TIMEOUT"], in: 0.001...3_600,
        "Seconds one webhook POST may take."
    )
    package static let webhookMaxAttempts = integer(
        "webhook-max-attempts", \.webhookMaxAttempts, env: ["PROMPTLINE_WEBHOOK_MAX_ATTEMPTS"], in: 1...100,
        "POSTs of one webhook at most, the first included, before it is given up."
    )
    package static let webhookRetryDelay = number(
        "webhook-retry-delay", \.webhookRetryDelay, env: ["PROMPTLINE_WEBHOOK_RETRY_DELAY"], in: 0...3_600,
        "Seconds before a webhook's second POST; doubles after each failure, at most an hour."
    )
    package static let webhookAllowHosts = Setting(
        name: "webhook-allow-hosts", environment: ["PROMPTLINE_WEBHOOK_ALLOW_HOSTS"],
        summary: "Comma-separated host names, addresses and CIDR blocks (hooks.internal, 10.1.2.3, 192.168.0.0/16) a webhook_url may reach although they are loopback, private, link-local, multicast or reserved; everything else inside is refused (422).",
        defaultText: "none", kind: .text, isSecret: false,
        apply: { raw, settings throws(SettingProblem) in settings.webhookAllowHosts = try WebhookAddressPolicy(allowing: raw) },
        show: { $0.webhookAllowHosts.isEmpty ? nil : $0.webhookAllowHosts.description }
    )

    // MARK: Logs

    package static let logLevel = choice(
        "log-level", \.logLevel, env: ["PROMPTLINE_LOG_LEVEL", "LOG_LEVEL"], "The least severe log lines written.",
        what: "a log level"
    )
    package static let logFormat = choice(
        "log-format", \.logFormat, env: ["PROMPTLINE_LOG_FORMAT"],
        "text: readable lines; json: one JSON object per line, with task_id and request_id.", what: "a log format"
    )
}
