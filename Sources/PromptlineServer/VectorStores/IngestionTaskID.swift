/// The ids of a vector store file's ingestion tasks:
///
/// - `ingest:<vector store>:<file>:<generation>`: the file's step, which extracts and cuts
///   its text, waits for the embedding calls, then marks the file completed or failed;
/// - `<step id>:e<j>`: the call that embeds the `j`-th group of the file's chunks and
///   stores their vectors.
///
/// The generation counts the file's attachments to the store, so a step left over from an
/// earlier one knows it is stale and stops.
struct IngestionTaskID: Hashable, Sendable {
    var vectorStoreID: String
    var fileID: String
    var generation: Int
    /// For an embedding call: which group of chunks.
    var group: Int?

    static let namespace = "ingest"

    static func step(_ vectorStoreID: String, _ fileID: String, generation: Int) -> String {
        "\(namespace):\(vectorStoreID):\(fileID):\(generation)"
    }

    static func call(below step: String, group: Int) -> String { "\(step):e\(group)" }

    var stepID: String { Self.step(vectorStoreID, fileID, generation: generation) }

    init(vectorStoreID: String, fileID: String, generation: Int, group: Int? = nil) {
        self.vectorStoreID = vectorStoreID
        self.fileID = fileID
        self.generation = generation
        self.group = group
    }

    init?(_ id: String) {
        let parts = id.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4 || parts.count == 5, parts[0] == Self.namespace, let generation = Int(parts[3]) else { return nil }
        vectorStoreID = String(parts[1])
        fileID = String(parts[2])
        self.generation = generation
        if parts.count == 5 {
            guard parts[4].hasPrefix("e"), let group = Int(parts[4].dropFirst()) else { return nil }
            self.group = group
        }
    }
}
