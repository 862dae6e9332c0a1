import Foundation
import Logging
import PostgresNIO
import PromptlinePostgres

/// The private PostgreSQL that `scripts/test.sh` starts (`scripts/start-postgres.sh`),
/// read from `PROMPTLINE_TEST_POSTGRES_URL`.
enum TestPostgres {
    static let url = ProcessInfo.processInfo.environment["PROMPTLINE_TEST_POSTGRES_URL"]

    static func configuration() throws -> PostgresVectorIndex.Configuration {
        guard let url else { throw Missing() }
        return try PostgresVectorIndex.Configuration(url: url)
    }

    /// Opens an index on `configuration`, runs its pool and its migrations, hands it to
    /// `body`, then stops the pool.
    static func withIndex<Result: Sendable>(
        _ configuration: PostgresVectorIndex.Configuration,
        _ body: @Sendable (PostgresVectorIndex) async throws -> Result
    ) async throws -> Result {
        let index = PostgresVectorIndex(configuration: configuration, logger: Logger(label: "test"))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await index.run() }
            defer { group.cancelAll() }
            try await index.migrate()
            return try await body(index)
        }
    }

    /// Makes an empty database of its own for `body` (the test user may create databases),
    /// and drops it afterwards.
    static func withEmptyDatabase<Result: Sendable>(
        _ body: @Sendable (PostgresVectorIndex.Configuration) async throws -> Result
    ) async throws -> Result {
        let server = try configuration()
        let name = "promptline_empty_\(UInt32.random(in: 0...UInt32.max))"
        try await admin(server, "CREATE DATABASE \(name)")
        var configuration = server
        configuration.database = name
        do {
            let result = try await body(configuration)
            try await admin(server, "DROP DATABASE \(name) WITH (FORCE)")
            return result
        } catch {
            try? await admin(server, "DROP DATABASE \(name) WITH (FORCE)")
            throw error
        }
    }

    /// Runs one statement on a connection of its own.
    static func admin(_ configuration: PostgresVectorIndex.Configuration, _ sql: String) async throws {
        _ = try await strings(configuration, PostgresQuery(unsafeSQL: sql), decoding: false)
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "PROMPTLINE_TEST_POSTGRES_URL is not set: run ./scripts/test.sh, or ./scripts/start-postgres.sh and export the URL it prints"
        }
    }
}

extension TestPostgres {
    /// The first column of every row `query` returns, as text, from a connection of its own.
    static func strings(_ configuration: PostgresVectorIndex.Configuration, _ query: PostgresQuery, decoding: Bool = true) async throws -> [String] {
        let connection = try await PostgresConnection.connect(
            configuration: PostgresConnection.Configuration(
                host: configuration.host, port: configuration.port, username: configuration.username,
                password: configuration.password, database: configuration.database, tls: .disable
            ),
            id: 2,
            logger: Logger(label: "test")
        )
        do {
            var lines: [String] = []
            let rows = try await connection.query(query, logger: Logger(label: "test"))
            if decoding {
                for try await line in rows.decode(String.self) { lines.append(line) }
            } else {
                for try await _ in rows {}
            }
            try await connection.close()
            return lines
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
