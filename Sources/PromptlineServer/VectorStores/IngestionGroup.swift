/// The chunks one embedding call of an ingestion embeds, kept by the file's step when it
/// cuts the text (under the call's task id), so that no call cuts the whole text again.
struct IngestionGroup: Codable, Sendable {
    var chunks: [Chunk]

    struct Chunk: Codable, Sendable {
        /// Its place among the file's chunks.
        var index: Int
        var text: String
    }

    static let collection = "ingestion-chunks"
}
