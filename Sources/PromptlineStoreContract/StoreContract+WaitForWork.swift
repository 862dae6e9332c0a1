import Foundation
import PromptlineCore

extension StoreContract {
    static func waitForWorkWakesOnEnqueue(_ stores: Stores) async throws {
        let store = try await stores.open()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await within(.seconds(20), "waitForWork(timeout: 30 s) with an enqueue while waiting") {
                    await store.waitForWork(timeout: .seconds(30))
                }
            }
            try await Task.sleep(for: .milliseconds(200))
            _ = try await enqueue([newTask("wake up")], into: store)
            try await group.waitForAll()
        }
    }

    static func waitForWorkTimesOut(_ stores: Stores) async throws {
        let store = try await stores.open()
        try await within(.seconds(20), "waitForWork(timeout: 100 ms) on an empty store") {
            await store.waitForWork(timeout: .milliseconds(100))
        }
    }
}
