import Logging
import ServiceLifecycle

/// Owns what the other services use and must be closed once they have stopped: the upstream
/// and webhook clients, the store. First in the service group, so it is stopped last; it
/// closes its resources, in order, however the group ends (signal, a service's failure).
struct ResourceCloser: Service {
    /// A resource's name (for the log) and how to close it.
    struct Resource: Sendable {
        var name: String
        var close: @Sendable () async throws -> Void
    }

    var resources: [Resource]
    var logger: Logger

    func run() async throws {
        // Returns when the group shuts down, or throws when it is cancelled: closed either way.
        try? await gracefulShutdown()
        for resource in resources {
            do {
                try await resource.close()
            } catch {
                logger.warning("closing \(resource.name) failed: \(error)")
            }
        }
    }
}
