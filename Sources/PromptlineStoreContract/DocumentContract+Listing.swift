import Foundation
import PromptlineCore

extension DocumentContract {
    static func listingIsNewestFirstPaged(_ store: any DocumentStore) async throws {
        let ids = (0..<5).map { "doc-\($0)" }
        for id in ids {
            try await insert(id, bytes("body of \(id)"), into: store)
            try await pause()
        }
        let newestFirst = Array(ids.reversed())
        let all = try await store.documents(collection: "files", after: nil, limit: 10)
        try checkEqual(all.map(\.id), newestFirst, "listing of 5 documents")
        for document in all {
            try checkEqual(document, try await read(document.id, in: store), "\(document.id) as listed and as read")
        }
        try check(
            zip(all, all.dropFirst()).allSatisfy { $0.createdAt >= $1.createdAt },
            "createdAt of a listing is not newest first: \(all.map(\.createdAt))"
        )

        var pages: [[String]] = []
        var cursor: String?
        repeat {
            let page = try await listed(store, after: cursor, limit: 2)
            pages.append(page)
            cursor = page.last
        } while cursor != nil && pages.count < 10
        try checkEqual(pages, [["doc-4", "doc-3"], ["doc-2", "doc-1"], ["doc-0"], []], "pages of 2")
        try checkEqual(try await listed(store, after: "unknown", limit: 3), ["doc-4", "doc-3", "doc-2"], "listing after an unknown id")
        try checkEqual(try await listed(store, limit: 0), [], "listing with limit 0")

        try await replace("doc-1", with: bytes("newer body"), ifVersion: 1, in: store)
        try checkEqual(try await listed(store), newestFirst, "listing after a replace of an older document")
        try checkEqual(try await listed(store, collection: "batches"), [], "listing of an empty collection")
    }

    static func collectionsAreSeparate(_ store: any DocumentStore) async throws {
        try await insert("same-id", bytes("a file"), into: store, collection: "files")
        try await insert("same-id", bytes("a batch"), into: store, collection: "batches")
        try await insert("only-file", bytes("only a file"), into: store, collection: "files")
        try checkEqual(try await read("same-id", in: store, collection: "files").body, bytes("a file"), "files/same-id")
        try checkEqual(try await read("same-id", in: store, collection: "batches").body, bytes("a batch"), "batches/same-id")
        try await checkAbsent("only-file", in: store, collection: "batches", "(inserted in files)")
        try checkEqual(Set(try await listed(store, collection: "files")), ["same-id", "only-file"], "listing of files")
        try checkEqual(try await listed(store, collection: "batches"), ["same-id"], "listing of batches")

        try await replace("same-id", with: bytes("a newer file"), ifVersion: 1, in: store, collection: "files")
        let batch = try await read("same-id", in: store, collection: "batches")
        try checkEqual(batch.version, 1, "version of batches/same-id after a replace of files/same-id")
        try checkEqual(batch.body, bytes("a batch"), "body of batches/same-id after a replace of files/same-id")

        try check(try await store.deleteDocument(collection: "batches", id: "same-id"), "delete of batches/same-id answered false")
        try checkEqual(try await read("same-id", in: store, collection: "files").version, 2, "files/same-id after a delete of batches/same-id")
        try checkEqual(try await listed(store, collection: "batches"), [], "listing of batches after its delete")
    }

    /// Waits long enough that the next document is newer, by a clock that counts milliseconds.
    static func pause() async throws {
        try await Task.sleep(for: .milliseconds(5))
    }
}
