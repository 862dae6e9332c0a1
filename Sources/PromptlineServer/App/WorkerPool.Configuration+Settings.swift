import EventLoopExecutor
import NIOPosix
import PromptlineCore

/// The pool as the server's settings configure it (PromptlineCore knows no settings).
extension WorkerPool.Configuration {
    init(_ settings: ServerSettings) {
        self.init(
            workers: settings.workers,
            lease: .seconds(settings.lease),
            retry: RetryPolicy(
                maxAttempts: settings.maxAttempts,
                baseDelay: .seconds(settings.retryBaseDelay),
                maxDelay: .seconds(settings.retryMaxDelay)
            ),
            shutdownGrace: .seconds(settings.shutdownGrace)
        )
        // On Redis, the loops that also carry the store's and the upstream's connections: a
        // task then stays on one thread. The embedded store works on GRDB's own threads, and
        // workers on the loops measured 15 % more CPU per task there than on the global pool.
        if settings.redisURL != nil {
            executors = MultiThreadedEventLoopGroup.singleton.makeIterator().map { EventLoopTaskExecutor($0) }
        }
    }
}
