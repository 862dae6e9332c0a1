import Logging
import PromptlineKnowledge
import PromptlinePostgres
import Testing

/// What needs no server: reading URLs, and the error of a server that is not there.
@Suite struct PostgresVectorIndexConfigurationTests {
    /// A server that does not answer is `unavailable`, named by host and never by password.
    @Test(.timeLimit(.minutes(1)))
    func anUnreachableServerIsUnavailableAndTheMessageHidesThePassword() async throws {
        var configuration = try PostgresVectorIndex.Configuration(url: "postgres://someone:s3cret-pw@127.0.0.1:1/db")
        configuration.maximumConnections = 1
        configuration.connectionWait = .milliseconds(500)
        let index = PostgresVectorIndex(configuration: configuration, logger: Logger(label: "test"))
        let error = await withTaskGroup(of: Void.self) { group in
            group.addTask { await index.run() }
            defer { group.cancelAll() }
            do {
                try await index.migrate()
                return nil as VectorIndexError?
            } catch {
                return error as? VectorIndexError
            }
        }
        let refused = try #require(error, "migrating against a closed port threw a VectorIndexError")
        #expect(refused.code == .unavailable)
        #expect(refused.message.contains("127.0.0.1:1"), "\(refused.message)")
        #expect(!refused.message.contains("s3cret-pw"), "\(refused.message)")
    }

    @Test func urlsAreRead() throws {
        let full = try PostgresVectorIndex.Configuration(url: "postgresql://me:p%40ss@db.example:6543/vectors?sslmode=require")
        #expect(full.host == "db.example")
        #expect(full.port == 6543)
        #expect(full.username == "me")
        #expect(full.password == "p@ss")
        #expect(full.database == "vectors")
        #expect(full.tls == .require)
        let short = try PostgresVectorIndex.Configuration(url: "postgres://me@localhost")
        #expect(short.port == 5432 && short.database == "me" && short.password == nil && short.tls == .disable)
        #expect(throws: VectorIndexError.self) { try PostgresVectorIndex.Configuration(url: "redis://localhost") }
        do {
            _ = try PostgresVectorIndex.Configuration(url: "postgres://me:hidden@localhost/db?sslmode=verify-full")
        } catch let error as VectorIndexError {
            #expect(!error.message.contains("hidden"))
        }
    }
}
