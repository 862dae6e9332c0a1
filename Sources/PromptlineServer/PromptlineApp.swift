import Foundation
import Hummingbird
import Logging
import NIOCore
import OpenAIUpstream
import PromptlineCore
import PromptlineSQLite
import ServiceLifecycle

/// Builds and runs one Promptline server: the store, the upstream client, the worker pool
/// and the HTTP server, as services in one group.
public enum PromptlineApp {
    /// Runs until SIGINT or SIGTERM, then shuts down gracefully: the HTTP server stops
    /// taking requests first, then the worker pool drains within the grace period and hands
    /// back the rest.
    public static func run(settings: ServerSettings, logger: Logger) async throws {
        let store = try await openStore(settings, logger: logger)
        let client = OpenAIClient(configuration: .init(settings), logger: logger)
        let pool = WorkerPool(
            store: store,
            backend: client,
            gate: RateLimitGate(),
            configuration: .init(settings),
            logger: logger
        )
        let app = Application(
            router: buildRouter(settings: settings, store: store, pool: pool),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? settings.port
                // Tests and scripts wait for this line to learn the port.
                FileHandle.standardOutput.write(Data("promptline listening on http://\(settings.host):\(port)\n".utf8))
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(
            // Started in this order, stopped in the reverse: the HTTP server first, the store last.
            services: [.init(service: store), .init(service: pool), .init(service: app)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        if settings.workers == 0 {
            logger.notice("running with no workers: tasks are taken and stored, but not processed here")
        }
        do {
            try await group.run()
        } catch {
            try? await client.shutdown()
            try? await store.close()
            throw error
        }
        try await client.shutdown()
        try await store.close()
        logger.info("stopped")
    }

    static func openStore(_ settings: ServerSettings, logger: Logger) async throws -> SQLiteTaskStore {
        do {
            return try await SQLiteTaskStore.open(
                .init(directory: settings.dataDir, retention: settings.retention),
                logger: logger
            )
        } catch {
            throw SettingsError(problems: ["--data-dir / PROMPTLINE_DATA_DIR: cannot open the embedded store in '\(settings.dataDir)': \(error)"])
        }
    }

    /// The routes, for the server and for in-process tests.
    public static func buildRouter(settings: ServerSettings, store: any TaskStore, pool: WorkerPool) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        let tasks = TaskController(
            store: store,
            pool: pool,
            policy: SubmitPolicy(
                defaultModel: settings.model,
                defaultMaxTokens: settings.maxTokens,
                defaultTemperature: settings.temperature
            ),
            maxBodySize: settings.maxBodySize
        )
        tasks.addRoutes(to: router)
        router.get("/health/live") { _, _ in ["status": "ok"] }
        router.get("/health/ready") { _, _ -> Response in
            do {
                _ = try await store.counts()
                return try JSONBody.response(["status": "ok"])
            } catch {
                throw APIError(.serviceUnavailable, "store unreachable: \(error)")
            }
        }
        return router
    }
}

extension ServerSettings {
    var retention: RetentionPolicy {
        RetentionPolicy(statusTTL: .seconds(statusTTL), resultTTL: .seconds(resultTTL))
    }
}

extension WorkerPool.Configuration {
    init(_ settings: ServerSettings) {
        self.init(
            workers: settings.workers,
            lease: .seconds(settings.lease),
            retry: RetryPolicy(
                maxAttempts: settings.maxAttempts,
                baseDelay: .seconds(settings.retryBaseDelay),
                maxDelay: .seconds(settings.retryMaxDelay)
            ),
            shutdownGrace: .seconds(settings.shutdownGrace)
        )
    }
}

extension OpenAIClient.Configuration {
    init(_ settings: ServerSettings) {
        self.init(
            baseURL: settings.upstreamURL,
            apiKey: settings.upstreamAPIKey,
            timeout: .seconds(settings.upstreamTimeout),
            // SPEC §3: the timeout bounds the whole call as well as each gap between tokens.
            maximumStreamDuration: .seconds(settings.upstreamTimeout),
            streaming: settings.upstreamStreaming,
            maxConnections: max(settings.workers, 8)
        )
    }
}
