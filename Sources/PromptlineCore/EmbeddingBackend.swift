/// An embeddings API the workers send a vector store's chunks to.
package protocol EmbeddingBackend: Sendable {
    /// Embeds `inputs` in one call, answering one vector per input, in order. Throws
    /// ``UpstreamError``.
    func embed(_ inputs: [String], model: String) async throws -> Embeddings
}

/// The vectors of one embeddings call and what it cost.
package struct Embeddings: Sendable, Hashable {
    package var vectors: [[Float]]
    /// The tokens the upstream counted, when it said.
    package var promptTokens: Int?

    package init(vectors: [[Float]], promptTokens: Int?) {
        self.vectors = vectors
        self.promptTokens = promptTokens
    }
}
