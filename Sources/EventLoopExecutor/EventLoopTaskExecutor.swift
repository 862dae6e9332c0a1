import NIOCore

/// Runs a task's jobs on one NIO event loop.
///
/// A task that prefers it (`withTaskExecutorPreference`) stays on that loop's thread, and
/// the upstream and Redis pools give such a caller connections on the same loop: a request
/// and its upstream exchange then never change threads. The server handles each HTTP
/// connection this way, on the connection's own loop; the wake-ups of thread hand-offs
/// were most of what a relayed chat completion added to the upstream's latency.
package final class EventLoopTaskExecutor: TaskExecutor {
    package let eventLoop: any EventLoop

    package init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
