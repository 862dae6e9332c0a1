import Dispatch
import Foundation
import GRDB
import PromptlineKnowledge
import Synchronization

/// The embedded ``VectorIndex``: chunks in a SQLite file of their own in the data directory
/// (`vectors.sqlite`, WAL), searched exactly in memory.
///
/// A collection's vectors are loaded into a ``VectorCollection`` (one contiguous, normalised
/// matrix) on its first search, and from then on every write changes the file and the
/// matrix together: the matrix is changed inside the write's transaction, on GRDB's one
/// writer queue, so the two never disagree about the order of writes (and a transaction
/// that fails to commit drops the collection from memory, to be loaded again).
///
/// A search copies the collection (O(1), copy on write) and scans the copy outside the
/// lock; a scan of more than ``Configuration/scanOnQueueAbove`` values runs on a Dispatch
/// queue of the index's own, not on the caller's thread of the cooperative pool. Texts are
/// read from the file for the matches only.
package final class SQLiteVectorIndex: VectorIndex {
    /// Where the index keeps its file, and when a search leaves the caller's thread.
    package struct Configuration: Sendable {
        /// The SQLite file; its directory is created if missing.
        package var path: String
        /// Rows × dimension of a collection above which a scan runs on the index's queue
        /// (about half a millisecond of scanning at the default, 4M values: 10,000 chunks of
        /// 384 dimensions).
        package var scanOnQueueAbove: Int

        /// The index in `vectors.sqlite` of the data directory `directory`.
        package init(directory: String, scanOnQueueAbove: Int = 1 << 22) {
            self.path = URL(fileURLWithPath: directory).appendingPathComponent("vectors.sqlite").path
            self.scanOnQueueAbove = scanOnQueueAbove
        }
    }

    package let configuration: Configuration
    let database: DatabasePool
    /// The collections searched since opening, by name. One absent is loaded on its next search.
    private let loaded = Mutex<[String: VectorCollection]>([:])
    private let scanQueue = DispatchQueue(label: "promptline.vector-scan", qos: .userInitiated, attributes: .concurrent)

    private init(configuration: Configuration, database: DatabasePool) {
        self.configuration = configuration
        self.database = database
    }

    /// Opens (or creates) the index file.
    package static func open(_ configuration: Configuration) async throws -> SQLiteVectorIndex {
        let directory = URL(fileURLWithPath: configuration.path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var config = GRDB.Configuration()
        config.label = "promptline.vectors"
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        let database = try DatabasePool(path: configuration.path, configuration: config)
        try await database.write { db in try Schema.migrate(db) }
        return SQLiteVectorIndex(configuration: configuration, database: database)
    }

    /// Closes the file and forgets the collections in memory.
    package func close() async throws {
        loaded.withLock { $0.removeAll() }
        try database.close()
    }

    // MARK: - Writes

    package func upsert(_ chunks: [IndexedChunk], collection: String) async throws {
        guard let first = chunks.first else { return }
        let rows = chunks.map { (fileID: $0.fileID, index: $0.index, text: Data($0.text.utf8), vector: Schema.blob($0.vector)) }
        try await changing(collection) { db in
            let dimension = try Schema.dimension(of: collection, in: db) ?? first.vector.count
            if let wrong = chunks.first(where: { $0.vector.count != dimension }) {
                throw VectorIndexError(
                    .dimensionMismatch,
                    "chunk \(wrong.index) of file \(wrong.fileID) has \(wrong.vector.count) dimensions; collection \(collection) has \(dimension)")
            }
            try db.execute(
                sql: "INSERT INTO vector_collections (name, dimension) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                arguments: [collection, dimension])
            let insert = try db.cachedStatement(sql: """
                INSERT INTO vector_chunks (collection, file_id, idx, text, vector) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (collection, file_id, idx) DO UPDATE SET text = excluded.text, vector = excluded.vector
                """)
            for row in rows {
                try insert.execute(arguments: [collection, row.fileID, row.index, row.text, row.vector])
            }
            try self.loaded.withLock { loaded in try loaded[collection]?.upsert(chunks) }
        }
    }

    package func remove(fileID: String, collection: String) async throws {
        try await changing(collection) { db in
            try db.execute(sql: "DELETE FROM vector_chunks WHERE collection = ? AND file_id = ?", arguments: [collection, fileID])
            self.loaded.withLock { loaded in loaded[collection]?.remove(fileID: fileID) }
        }
    }

    package func removeCollection(_ collection: String) async throws {
        try await changing(collection) { db in
            try db.execute(sql: "DELETE FROM vector_chunks WHERE collection = ?", arguments: [collection])
            try db.execute(sql: "DELETE FROM vector_collections WHERE name = ?", arguments: [collection])
            self.loaded.withLock { loaded in loaded[collection] = nil }
        }
    }

    /// Runs `change` as one transaction; if it fails (or its commit does), the collection's
    /// copy in memory may be ahead of the file and is dropped, to be loaded again.
    private func changing(_ collection: String, _ change: @escaping @Sendable (Database) throws -> Void) async throws {
        do {
            try await database.write(change)
        } catch {
            loaded.withLock { loaded in loaded[collection] = nil }
            throw error
        }
    }

    // MARK: - Reads

    package func count(fileID: String, collection: String) async throws -> Int {
        try await database.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM vector_chunks WHERE collection = ? AND file_id = ?", arguments: [collection, fileID]) ?? 0
        }
    }

    package func search(_ query: [Float], collection: String, files: Set<String>, limit: Int) async throws -> [VectorMatch] {
        guard let snapshot = try await inMemory(collection) else { return [] }
        guard query.count == snapshot.dimension else {
            throw VectorIndexError(.dimensionMismatch, "a query of \(query.count) dimensions; collection \(collection) has \(snapshot.dimension)")
        }
        guard limit > 0, !files.isEmpty else { return [] }
        let hits: [VectorCollection.Hit]
        if snapshot.count * snapshot.dimension > configuration.scanOnQueueAbove {
            hits = await withCheckedContinuation { continuation in
                scanQueue.async { continuation.resume(returning: snapshot.search(query, files: files, limit: limit)) }
            }
        } else {
            hits = snapshot.search(query, files: files, limit: limit)
        }
        guard !hits.isEmpty else { return [] }
        return try await database.read { db in
            let text = try db.cachedStatement(sql: "SELECT text FROM vector_chunks WHERE collection = ? AND file_id = ? AND idx = ?")
            // A chunk removed since the scan is left out.
            return try hits.compactMap { hit in
                try Data.fetchOne(text, arguments: [collection, hit.fileID, hit.index]).map {
                    VectorMatch(fileID: hit.fileID, index: hit.index, text: String(decoding: $0, as: UTF8.self), score: hit.score)
                }
            }
        }
    }

    /// A copy of the collection in memory, loaded from the file if it is not yet; `nil` when
    /// the collection is unknown. Loading runs on the writer queue, so no write can fall
    /// between reading the rows and keeping them.
    func inMemory(_ collection: String) async throws -> VectorCollection? {
        if let copy = loaded.withLock({ $0[collection] }) { return copy }
        return try await database.write { db -> VectorCollection? in
            if let copy = self.loaded.withLock({ $0[collection] }) { return copy }
            guard let dimension = try Schema.dimension(of: collection, in: db) else { return nil }
            var memory = VectorCollection(dimension: dimension)
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM vector_chunks WHERE collection = ?", arguments: [collection]) ?? 0
            memory.reserveCapacity(count)
            let rows = try Row.fetchCursor(
                db, sql: "SELECT file_id, idx, vector FROM vector_chunks WHERE collection = ?", arguments: [collection])
            while let row = try rows.next() {
                let vector = try Schema.vector(row[2], dimension: dimension)
                memory.upsert(fileID: row[0], index: row[1], vector: vector)
            }
            self.loaded.withLock { $0[collection] = memory }
            return memory
        }
    }
}
