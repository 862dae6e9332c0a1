import Logging
import ServiceLifecycle

/// Moves running batches on (``BatchService/advance(_:)``): counts, cancellations,
/// expiry, the end. Every instance runs one; the batch records' compare-and-replace keeps
/// them from undoing each other, and a batch a crashed instance was watching is simply
/// taken on by the next round of any other — or of the same one after a restart.
struct BatchSupervisor: Service {
    let service: BatchService
    let interval: Duration
    let logger: Logger

    func run() async throws {
        var failing = false
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                for id in try await service.activeBatchIDs() {
                    try await service.advance(id)
                }
                if failing { logger.notice("batches are watched again") }
                failing = false
            } catch {
                if !failing { logger.error("could not move batches on; trying again", metadata: ["error": "\(error)"]) }
                failing = true
            }
            try? await Task.sleep(for: interval)
        }
    }
}
