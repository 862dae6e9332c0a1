import Foundation
import PromptlineCore

extension ListPage {
    /// One page of the records of a document collection that `keep` accepts (the caller's
    /// own, of the purpose asked for), decoded by `decode`.
    ///
    /// The store lists newest first; records `keep` refuses are skipped, so a page may take
    /// several reads. Oldest first (`ascending`) reads every kept record before paging,
    /// which is fine for the thousands of records one key keeps, not for millions.
    static func reading(
        _ collection: String, of documents: any DocumentStore, after: String?, before: String? = nil, limit: Int, ascending: Bool,
        id: (Item) -> String, decode: (Data) throws -> Item, keep: (Item) -> Bool
    ) async throws -> ListPage<Item> {
        var items: [Item] = []
        // Oldest first, or back from `before`, reads every kept record and pages in memory.
        let whole = ascending || before != nil
        var cursor: String? = whole ? nil : after
        var hasMore = false
        let wanted = whole ? Int.max : limit
        reading: while true {
            let stored = try await documents.documents(collection: collection, after: cursor, limit: 500)
            for document in stored {
                let item = try decode(document.body)
                guard keep(item) else { continue }
                guard items.count < wanted else {
                    hasMore = true
                    break reading
                }
                items.append(item)
            }
            guard stored.count == 500, let last = stored.last else { break }
            cursor = last.id
        }
        guard whole else { return ListPage(data: items, firstID: items.first.map(id), lastID: items.last.map(id), hasMore: hasMore) }
        if ascending { items.reverse() }
        return page(of: items, after: after, before: before, limit: limit, id: id)
    }

    /// One page of `items`, listed in the order given: those after the one with id `after`,
    /// or the last `limit` before the one with id `before` (OpenAI's cursors; an unknown id
    /// is no cursor).
    static func page(of items: [Item], after: String?, before: String?, limit: Int, id: (Item) -> String) -> ListPage<Item> {
        var items = items
        var hasMore: Bool
        if let before, let end = items.firstIndex(where: { id($0) == before }) {
            hasMore = end > limit
            items = Array(items[max(0, end - limit)..<end])
        } else {
            if let after, let start = items.firstIndex(where: { id($0) == after }) { items.removeFirst(start + 1) }
            hasMore = items.count > limit
            items = Array(items.prefix(limit))
        }
        return ListPage(data: items, firstID: items.first.map(id), lastID: items.last.map(id), hasMore: hasMore)
    }
}
