import Foundation
import GRDB
import PromptlineKnowledge

extension SQLiteVectorIndex {
    /// The index's tables, and how a vector is kept in a BLOB.
    enum Schema {
        static func migrate(_ db: Database) throws {
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS vector_collections (
                    name TEXT PRIMARY KEY,
                    -- Set by the first vector written; every vector of the collection has it.
                    dimension INTEGER NOT NULL
                );
                CREATE TABLE IF NOT EXISTS vector_chunks (
                    collection TEXT NOT NULL,
                    file_id TEXT NOT NULL,
                    idx INTEGER NOT NULL,
                    -- UTF-8 bytes, so that a NUL inside the text survives.
                    text BLOB NOT NULL,
                    -- float32 little-endian, as written (normalised only in memory).
                    vector BLOB NOT NULL,
                    PRIMARY KEY (collection, file_id, idx)
                );
                """)
        }

        static func dimension(of collection: String, in db: Database) throws -> Int? {
            try Int.fetchOne(db, sql: "SELECT dimension FROM vector_collections WHERE name = ?", arguments: [collection])
        }

        /// A vector as float32 little-endian bytes.
        static func blob(_ vector: [Float]) -> Data {
            var data = Data(count: vector.count * 4)
            data.withUnsafeMutableBytes { bytes in
                for (offset, value) in vector.enumerated() {
                    bytes.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: offset * 4, as: UInt32.self)
                }
            }
            return data
        }

        /// A vector read back from ``blob(_:)``'s bytes.
        static func vector(_ blob: Data, dimension: Int) throws -> [Float] {
            guard blob.count == dimension * 4 else {
                throw DatabaseError(message: "a stored vector of \(blob.count) bytes in a collection of \(dimension) dimensions")
            }
            return blob.withUnsafeBytes { bytes in
                (0..<dimension).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            }
        }
    }
}
