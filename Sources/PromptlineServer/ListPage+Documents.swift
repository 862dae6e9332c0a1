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
        _ collection: String, of documents: any DocumentStore, after: String?, limit: Int, ascending: Bool,
        id: (Item) -> String, decode: (Data) throws -> Item, keep: (Item) -> Bool
    ) async throws -> ListPage<Item> {
        var items: [Item] = []
        var cursor: String? = ascending ? nil : after
        var hasMore = false
        let wanted = ascending ? Int.max : limit
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
        if ascending {
            items.reverse()
            if let after, let index = items.firstIndex(where: { id($0) == after }) {
                items.removeFirst(index + 1)
            }
            hasMore = items.count > limit
            items = Array(items.prefix(limit))
        }
        return ListPage(data: items, firstID: items.first.map(id), lastID: items.last.map(id), hasMore: hasMore)
    }
}
