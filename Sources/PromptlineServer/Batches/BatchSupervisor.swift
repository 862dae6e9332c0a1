import Logging
import ServiceLifecycle

/// Moves running batches on (``BatchService/advance(_:)``): counts, cancellations,
/// expiry, the end. Every instance runs one; the batch records' compare-and-replace keeps
/// them from undoing each other, and a batch a crashed instance was watching is simply
/// taken on by the next round of any other — or of the same one after a restart.
///
/// Advancing a batch reads all its tasks, so a big batch is looked at less often: every
/// `interval`, or every second per 10,000 requests if that is longer.
struct BatchSupervisor: Service {
    let service: BatchService
    let interval: Duration
    let logger: Logger

    func run() async throws {
        var failing = false
        var lastLook: [String: ContinuousClock.Instant] = [:]
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                let now = ContinuousClock.now
                let active = try await service.activeBatches()
                for (id, requests) in active {
                    let every = max(interval, .seconds(Double(requests) / 10_000))
                    if let last = lastLook[id], now - last < every { continue }
                    lastLook[id] = now
                    try await service.advance(id)
                }
                let ids = Set(active.map(\.id))
                lastLook = lastLook.filter { ids.contains($0.key) }
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
