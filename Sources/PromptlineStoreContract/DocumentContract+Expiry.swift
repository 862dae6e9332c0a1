import Foundation
import PromptlineCore

/// A "gone" check waits until the time to live has surely run out: a ttl starts before
/// the call that gives it returns. A "still there" check holds only while the time to live
/// has surely not run out; a loaded machine may get there too late, and then it is skipped.
extension DocumentContract {
    static func replaceKeepsExpiryUnlessGivenTTL(_ store: any DocumentStore) async throws {
        let keptStart = ContinuousClock.now
        try await insert("kept", bytes("v1"), into: store, ttl: .seconds(1))
        let keptInserted = ContinuousClock.now
        let kept = try await store.replaceDocument(collection: "files", id: "kept", body: bytes("v2"), ifVersion: 1, ttl: nil)
        if ContinuousClock.now < keptStart + .milliseconds(900) {
            try checkEqual(kept?.version, 2, "version of a document replaced without a ttl, within its 1 s ttl")
        }
        let extendedStart = ContinuousClock.now
        try await insert("extended", bytes("v1"), into: store, ttl: .seconds(1))
        let extended = try await store.replaceDocument(collection: "files", id: "extended", body: bytes("v2"), ifVersion: 1, ttl: longTTL)
        let extendedInTime = ContinuousClock.now < extendedStart + .milliseconds(900)
        if extendedInTime {
            try checkEqual(extended?.version, 2, "version of a document replaced with a 1 h ttl, within its 1 s ttl")
        }
        try await insert("shortened", bytes("v1"), into: store)
        try await replace("shortened", with: bytes("v2"), ifVersion: 1, ttl: .milliseconds(300), in: store)
        let shortened = ContinuousClock.now

        try await waitOut(.seconds(1), from: keptInserted)
        try await waitOut(.milliseconds(300), from: shortened)
        try await checkAbsent("kept", in: store, "once its 1 s ttl ran out, replaced without a ttl")
        try await checkAbsent("shortened", in: store, "once a replace's 300 ms ttl ran out")
        if extendedInTime {
            let read = try await read("extended", in: store)
            try checkEqual(read.version, 2, "version of a document whose replace gave it a 1 h ttl")
            try checkEqual(read.body, bytes("v2"), "body of a document whose replace gave it a 1 h ttl")
            try checkEqual(try await listed(store), ["extended"], "listing once the other ttls ran out")
        }
    }

    static func expiredDocumentsAreAbsent(_ store: any DocumentStore) async throws {
        let start = ContinuousClock.now
        for (id, ttl) in [("long-1", longTTL), ("short-1", .milliseconds(300)), ("long-2", longTTL),
                          ("short-2", .milliseconds(300)), ("long-3", longTTL)] {
            try await insert(id, bytes(id), into: store, ttl: ttl)
            try await pause()
        }
        let inserted = ContinuousClock.now
        let justInserted = try await listed(store)
        if ContinuousClock.now < start + .milliseconds(250) {
            try checkEqual(justInserted, ["long-3", "short-2", "long-2", "short-1", "long-1"], "listing right after the inserts")
        }

        try await waitOut(.milliseconds(300), from: inserted)
        try await checkAbsent("short-1", in: store, "once its 300 ms ttl ran out")
        try await checkAbsent("short-2", in: store, "once its 300 ms ttl ran out")
        try checkEqual(try await listed(store, limit: 2), ["long-3", "long-2"], "first page of 2 once the short-lived expired")
        try checkEqual(try await listed(store, after: "long-2", limit: 2), ["long-1"], "second page of 2 once the short-lived expired")
        try checkEqual(try await listed(store), ["long-3", "long-2", "long-1"], "listing once the short-lived expired")
        let replaced = try await store.replaceDocument(collection: "files", id: "short-1", body: bytes("late"), ifVersion: 1, ttl: longTTL)
        try check(replaced == nil, "a replace of an expired document answered version \(replaced?.version ?? 0)")
        try check(!(try await store.deleteDocument(collection: "files", id: "short-2")), "delete of an expired document answered true")

        try await insert("short-1", bytes("anew"), into: store)
        let anew = try await read("short-1", in: store)
        try checkEqual(anew.version, 1, "version of an expired id inserted anew")
        try checkEqual(anew.body, bytes("anew"), "body of an expired id inserted anew")
        try checkEqual(try await listed(store, limit: 2), ["short-1", "long-3"], "listing after an expired id is inserted anew")
    }

    /// Waits until a ttl given by a call that had returned at `given` has surely run out.
    static func waitOut(_ ttl: Duration, from given: ContinuousClock.Instant) async throws {
        try await Task.sleep(until: given + ttl + .milliseconds(200), clock: .continuous)
    }
}
