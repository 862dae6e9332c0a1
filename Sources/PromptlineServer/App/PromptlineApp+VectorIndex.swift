import Logging
import PromptlineKnowledge
import PromptlineSQLite
import ServiceLifecycle

extension PromptlineApp {
    /// The vector index the settings name, with what runs beside it.
    struct OpenedVectorIndex {
        var index: any VectorIndex
        /// What keeps the index's connections going, when it has any.
        var service: (any Service)?
        var close: @Sendable () async throws -> Void
    }

    /// The index of vector stores' chunks: PostgreSQL with pgvector when `--vector-url` names
    /// one, else the data directory's — but only for the embedded store: instances sharing
    /// Redis must share their index too, so without `--vector-url` they have none (`nil`),
    /// and the knowledge routes say why.
    static func openVectorIndex(_ settings: ServerSettings, logger: Logger) async throws -> OpenedVectorIndex? {
        if settings.vectorURL != nil {
            throw SettingsError(problems: ["\(Setting.vectorURL.named): PostgreSQL is not wired in yet"])
        }
        guard settings.redisURL == nil else {
            logger.notice("vector stores are off: instances on Redis need a shared index (\(Setting.vectorURL.named) postgres://…)")
            return nil
        }
        do {
            let index = try await SQLiteVectorIndex.open(.init(directory: settings.dataDir))
            return OpenedVectorIndex(index: index, service: nil, close: { try await index.close() })
        } catch {
            throw SettingsError(problems: ["\(Setting.dataDir.named): cannot open the vector index in '\(settings.dataDir)': \(error)"])
        }
    }
}
