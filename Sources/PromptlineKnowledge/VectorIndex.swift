/// Where the embeddings of vector stores' chunks live, and how the closest ones are found.
///
/// A collection is one vector store; within it a chunk is named by its file and its place
/// in the file, so writing a file's chunks again replaces them. Every vector of a
/// collection has the collection's dimension, set by the first vector written to it.
///
/// An index never decides what is searchable: the caller names the files a search may
/// return (those whose every chunk is stored, and whose attributes pass the filters), so
/// a file half-written, failed or being replaced is never seen. Two implementations keep
/// one contract (``VectorIndexContract``): the embedded one in the data directory (exact
/// search) and PostgreSQL with pgvector, shared by every instance.
package protocol VectorIndex: Sendable {
    /// Stores chunks of files in a collection, replacing any with the same file and index.
    /// Throws ``VectorIndexError`` with code `dimensionMismatch` when a vector's length is
    /// not the collection's dimension, and then stores none of them.
    func upsert(_ chunks: [IndexedChunk], collection: String) async throws

    /// Removes every chunk of a file from a collection (nothing when it has none).
    func remove(fileID: String, collection: String) async throws

    /// Removes a collection and every chunk in it (nothing when it is unknown).
    func removeCollection(_ collection: String) async throws

    /// At most `limit` chunks of the named files, closest to `query` first by cosine
    /// similarity (``VectorMatch/score``, 1 for the same direction). Empty when the
    /// collection or the files are unknown. Throws `dimensionMismatch` when the query's
    /// length is not the collection's dimension.
    func search(_ query: [Float], collection: String, files: Set<String>, limit: Int) async throws -> [VectorMatch]

    /// How many chunks of a file the collection holds.
    func count(fileID: String, collection: String) async throws -> Int
}

/// One chunk of a file and its embedding, as an index keeps it.
package struct IndexedChunk: Sendable, Hashable {
    package var fileID: String
    /// Its place among the chunks of its file, from 0.
    package var index: Int
    package var text: String
    package var vector: [Float]

    package init(fileID: String, index: Int, text: String, vector: [Float]) {
        self.fileID = fileID
        self.index = index
        self.text = text
        self.vector = vector
    }
}

/// A chunk a search found.
package struct VectorMatch: Sendable, Hashable {
    package var fileID: String
    package var index: Int
    package var text: String
    /// Cosine similarity to the query, from -1 to 1.
    package var score: Float

    package init(fileID: String, index: Int, text: String, score: Float) {
        self.fileID = fileID
        self.index = index
        self.text = text
        self.score = score
    }
}

/// A vector index could not do what it was asked.
package struct VectorIndexError: Error, Sendable, CustomStringConvertible {
    package enum Code: String, Sendable {
        /// A vector's length is not its collection's dimension.
        case dimensionMismatch
        /// The index's server cannot be reached or refused the request.
        case unavailable
    }

    package var code: Code
    package var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}
