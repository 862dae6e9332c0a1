import Foundation
import Logging
import PromptlineCore
import PromptlineRedis
import PromptlineSQLite
import RedisClient
import ServiceLifecycle

extension PromptlineApp {
    /// The store the settings name, with what runs beside it.
    struct OpenedStore {
        var store: any TaskStore
        /// The same store's records beside the tasks (the Batch API's files and batches, API keys).
        var documents: any DocumentStore
        /// Where per-key usage is counted: the store itself when instances share it.
        var usage: any UsageMeter
        /// What keeps the store going (checkpoints, the pub/sub subscription).
        var service: any Service
        var registry: any ClusterRegistry
        var close: @Sendable () async throws -> Void
    }

    static func openStore(_ settings: ServerSettings, logger: Logger) async throws -> OpenedStore {
        if let url = settings.redisURL {
            let redis = try RedisConfiguration(url: url)
            let store: RedisTaskStore
            do {
                store = try await RedisTaskStore.open(
                    .init(redis: redis, keyPrefix: settings.redisPrefix, retention: settings.retention),
                    logger: logger
                )
            } catch {
                throw SettingsError(problems: ["\(Setting.redisURL.named): cannot use Redis at \(redis): \(error)"])
            }
            for warning in await store.configurationWarnings() {
                logger.warning("\(warning)")
            }
            logger.info("using the Redis store", metadata: ["redis": "\(redis)", "prefix": "\(settings.redisPrefix)"])
            return OpenedStore(
                store: store, documents: store, usage: store, service: store,
                registry: RedisClusterRegistry(pool: store.pool, keyPrefix: settings.redisPrefix),
                close: { await store.close() }
            )
        }
        do {
            let store = try await SQLiteTaskStore.open(
                .init(directory: settings.dataDir, retention: settings.retention),
                logger: logger
            )
            return OpenedStore(
                store: store, documents: store, usage: LocalUsageMeter(), service: store,
                registry: LocalClusterRegistry(), close: { try await store.close() }
            )
        } catch {
            throw SettingsError(problems: ["\(Setting.dataDir.named): cannot open the embedded store in '\(settings.dataDir)': \(error)"])
        }
    }
}
