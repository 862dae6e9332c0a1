import Foundation
import GRDB
import PromptlineCore

/// Documents are rows of their own table (see ``Schema``), written through the same
/// ``GroupCommitWriter`` as the tasks. An expired row reads as absent at once; it stays on
/// disk until ``purgeExpired()``, or until an insert of the same id takes its place.
extension SQLiteTaskStore: DocumentStore {
    package func insertDocument(collection: String, id: String, body: Data, ttl: Duration) async throws -> Bool {
        let now = Self.now()
        let expiresAt = now + ttl.seconds
        return try await writer.write { db in
            try db.execute(
                sql: "DELETE FROM documents WHERE collection = ? AND id = ? AND expires_at <= ?",
                arguments: [collection, id, now]
            )
            try db.execute(sql: """
                INSERT INTO documents (collection, id, version, body, created_at, expires_at)
                VALUES (?, ?, 1, ?, ?, ?)
                ON CONFLICT (collection, id) DO NOTHING
                """, arguments: [collection, id, body, now, expiresAt])
            return db.changesCount > 0
        }
    }

    package func document(collection: String, id: String) async throws -> StoredDocument? {
        let now = Self.now()
        return try await database.read { db in
            try Row.fetchOne(db, sql: """
                SELECT \(Self.documentColumns) FROM documents
                WHERE collection = ? AND id = ? AND expires_at > ?
                """, arguments: [collection, id, now]
            ).map(Self.storedDocument)
        }
    }

    package func replaceDocument(
        collection: String, id: String, body: Data, ifVersion version: Int, ttl: Duration?
    ) async throws -> StoredDocument? {
        let now = Self.now()
        let expiresAt = ttl.map { now + $0.seconds }
        return try await writer.write { db in
            // The body just written is the caller's; only what the row adds is read back.
            try Row.fetchOne(db, sql: """
                UPDATE documents SET body = ?, version = version + 1, expires_at = COALESCE(?, expires_at)
                WHERE collection = ? AND id = ? AND version = ? AND expires_at > ?
                RETURNING version, created_at
                """, arguments: [body, expiresAt, collection, id, version, now]
            ).map { row in
                StoredDocument(
                    collection: collection, id: id, body: body, version: row["version"],
                    createdAt: Date(timeIntervalSince1970: row["created_at"])
                )
            }
        }
    }

    package func deleteDocument(collection: String, id: String) async throws -> Bool {
        let now = Self.now()
        return try await writer.write { db in
            // An expired row goes too, but it was not there to the caller.
            let expiresAt = try Double.fetchOne(
                db, sql: "DELETE FROM documents WHERE collection = ? AND id = ? RETURNING expires_at",
                arguments: [collection, id]
            )
            return expiresAt.map { $0 > now } ?? false
        }
    }

    package func documents(collection: String, after: String?, limit: Int) async throws -> [StoredDocument] {
        guard limit > 0 else { return [] }
        let now = Self.now()
        return try await database.read { db in
            // The cursor's row counts even once expired, so paging goes on where it was.
            try Row.fetchAll(db, sql: """
                SELECT \(Self.documentColumns) FROM documents
                WHERE collection = ? AND expires_at > ?
                  AND seq < COALESCE((SELECT seq FROM documents WHERE collection = ? AND id = ?), 9223372036854775807)
                ORDER BY seq DESC LIMIT ?
                """, arguments: [collection, now, collection, after, limit]
            ).map(Self.storedDocument)
        }
    }

    /// The columns ``storedDocument(_:)`` reads.
    private static let documentColumns = "collection, id, body, version, created_at"

    private static func storedDocument(_ row: Row) -> StoredDocument {
        StoredDocument(
            collection: row["collection"], id: row["id"], body: row["body"], version: row["version"],
            createdAt: Date(timeIntervalSince1970: row["created_at"])
        )
    }
}
