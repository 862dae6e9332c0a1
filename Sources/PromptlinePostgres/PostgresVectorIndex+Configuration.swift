import Foundation
import NIOSSL
import PostgresNIO
import PromptlineKnowledge

extension PostgresVectorIndex {
    /// Where the index's database is and how it is searched.
    package struct Configuration: Sendable {
        package var host: String
        package var port: Int
        package var username: String
        /// Never logged, never part of an error's message or of ``description``.
        package var password: String?
        package var database: String
        /// `sslmode` of the URL: `disable` (the default), `prefer` or `require`.
        package var tls: TLSMode
        /// Connections the index's pool may open.
        package var maximumConnections: Int
        /// HNSW's candidate list (`hnsw.ef_search`): larger finds more of the exact
        /// neighbours and costs more per search.
        package var efSearch: Int
        /// A search whose named files hold at most this many chunks is an exact scan of
        /// those chunks (through the primary key) instead of an HNSW search; see
        /// ``PostgresVectorIndex/search(_:collection:files:limit:)``.
        package var exactSearchLimit: Int
        /// How long an operation waits for a pooled connection before it fails as
        /// `unavailable` (the pool itself retries an unreachable server for ever).
        package var connectionWait: Duration
        /// Further settings each connection starts with, after Promptline's own (for
        /// example `hnsw.max_scan_tuples`, or planner settings in tests).
        package var sessionSettings: [(String, String)]

        package enum TLSMode: String, Sendable {
            case disable, prefer, require
        }

        package init(
            host: String,
            port: Int = 5432,
            username: String,
            password: String? = nil,
            database: String,
            tls: TLSMode = .disable,
            maximumConnections: Int = 10,
            efSearch: Int = 100,
            exactSearchLimit: Int = 10_000,
            connectionWait: Duration = .seconds(10),
            sessionSettings: [(String, String)] = []
        ) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.tls = tls
            self.maximumConnections = maximumConnections
            self.efSearch = efSearch
            self.exactSearchLimit = exactSearchLimit
            self.connectionWait = connectionWait
            self.sessionSettings = sessionSettings
        }

        /// Reads `postgres://user:password@host:port/database?sslmode=require`
        /// (`postgresql://` too); the port defaults to 5432, the database to the user's name.
        package init(url: String) throws {
            guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
                  scheme == "postgres" || scheme == "postgresql",
                  let host = parsed.host(percentEncoded: false), !host.isEmpty
            else {
                throw VectorIndexError(.unavailable, "not a PostgreSQL URL (postgres://user:password@host:port/database): \(Self.redacted(url))")
            }
            guard let username = parsed.user(percentEncoded: false), !username.isEmpty else {
                throw VectorIndexError(.unavailable, "the PostgreSQL URL names no user: \(Self.redacted(url))")
            }
            let path = parsed.path(percentEncoded: false)
            let database = path.hasPrefix("/") ? String(path.dropFirst()) : path
            var tls = TLSMode.disable
            let query = URLComponents(string: url)?.queryItems ?? []
            if let mode = query.first(where: { $0.name == "sslmode" })?.value {
                guard let known = TLSMode(rawValue: mode) else {
                    throw VectorIndexError(.unavailable, "sslmode=\(mode) in the PostgreSQL URL: use disable, prefer or require")
                }
                tls = known
            }
            self.init(
                host: host,
                port: parsed.port ?? 5432,
                username: username,
                password: parsed.password(percentEncoded: false),
                database: database.isEmpty ? username : database,
                tls: tls
            )
        }

        /// `host:port/database`, what logs and errors name.
        package var description: String { "\(host):\(port)/\(database)" }

        /// The URL with its password replaced by `***`.
        static func redacted(_ url: String) -> String {
            guard var components = URLComponents(string: url), components.password != nil else { return url }
            components.password = "***"
            return components.string ?? "(unreadable URL)"
        }

        /// The client's configuration: each connection of the pool starts with the
        /// session's HNSW settings, so a search needs no `SET` of its own.
        func client() -> PostgresClient.Configuration {
            let clientTLS: PostgresClient.Configuration.TLS
            switch tls {
            case .disable: clientTLS = .disable
            case .prefer: clientTLS = .prefer(.makeClientConfiguration())
            case .require: clientTLS = .require(.makeClientConfiguration())
            }
            var configuration = PostgresClient.Configuration(
                host: host, port: port, username: username, password: password, database: database, tls: clientTLS
            )
            configuration.options.maximumConnections = maximumConnections
            configuration.options.additionalStartupParameters = [
                ("application_name", "promptline"),
                ("hnsw.ef_search", String(efSearch)),
                // pgvector 0.8+: an HNSW scan with a filter goes on until it has `limit`
                // rows that pass it; older versions drop the unknown setting with a warning.
                ("hnsw.iterative_scan", "relaxed_order"),
            ] + sessionSettings
            return configuration
        }
    }
}
