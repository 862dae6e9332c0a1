import Logging
import PromptlineKnowledge
import PromptlinePostgres
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
        if let url = settings.vectorURL {
            return try await openPostgres(url, logger: logger)
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

    /// The pgvector index, its schema brought up to date first by a short-lived index of
    /// its own (the one kept runs in the service group), so an unreachable or unusable
    /// database refuses start-up in one line.
    private static func openPostgres(_ url: String, logger: Logger) async throws -> OpenedVectorIndex {
        let configuration: PostgresVectorIndex.Configuration
        do {
            configuration = try PostgresVectorIndex.Configuration(url: url)
        } catch {
            throw SettingsError(problems: ["\(Setting.vectorURL.named): \(error)"])
        }
        let migrator = PostgresVectorIndex(configuration: configuration, logger: logger)
        do {
            let before = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await migrator.run() }
                defer { group.cancelAll() }
                return try await migrator.migrate()
            }
            logger.info("using the pgvector index", metadata: ["database": "\(configuration)", "schema_was": "\(before)"])
        } catch {
            throw SettingsError(problems: ["\(Setting.vectorURL.named): cannot use the vector index at \(configuration): \(error)"])
        }
        let index = PostgresVectorIndex(configuration: configuration, logger: logger)
        // The pool closes when its service stops.
        return OpenedVectorIndex(index: index, service: index, close: {})
    }
}
