/// A chunk's place in a collection: its file and its index in the file.
struct ChunkKey: Hashable {
    var fileID: String
    var index: Int
}
