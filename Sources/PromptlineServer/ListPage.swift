/// One page of an OpenAI list (`GET /v1/files`, `GET /v1/batches`): the items, the ids at
/// either end for the next request's `after`, and whether more follow.
struct ListPage<Item: Encodable & Sendable>: Encodable, Sendable {
    var object = "list"
    var data: [Item]
    var firstID: String?
    var lastID: String?
    var hasMore: Bool

    init(data: [Item], firstID: String?, lastID: String?, hasMore: Bool) {
        self.data = data
        self.firstID = firstID
        self.lastID = lastID
        self.hasMore = hasMore
    }

    enum CodingKeys: String, CodingKey {
        case object, data
        case firstID = "first_id"
        case lastID = "last_id"
        case hasMore = "has_more"
    }

    /// The `limit` query parameter: `fallback` when absent, a 400 naming the range when out of it.
    static func limit(_ raw: String?, in range: ClosedRange<Int>, default fallback: Int) throws -> Int {
        guard let raw else { return fallback }
        guard let value = Int(raw), range.contains(value) else {
            throw APIError(.badRequest, "limit: an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }
}
