import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One run of a child process with a deadline: no standard input, its standard output and
/// error written to files.
///
/// The caller's task waits for the child's termination without holding a thread (Foundation
/// reports it through `terminationHandler`). At the deadline, or when the task is cancelled,
/// the child is sent SIGKILL by its own pid, and ``run(timeout:)`` still waits for it to be
/// reaped, so no child outlives the call.
struct TimedProcess {
    /// How the run ended.
    enum Outcome: Equatable, Sendable {
        /// The child exited by itself with this status.
        case exited(Int32)
        /// The child was ended by this signal, not sent by us.
        case signalled(Int32)
        /// The deadline passed and the child was killed.
        case timedOut
    }

    var executable: String
    var arguments: [String]
    var standardOutput: URL
    var standardError: URL

    /// Starts the child and waits for it to end.
    ///
    /// - Throws: what `Process.run()` throws when the child cannot be started;
    ///   `CancellationError` when the task was cancelled (the child has been killed and reaped).
    func run(timeout: Duration) async throws -> Outcome {
        // An empty file each; opening it for writing below reports any failure.
        _ = FileManager.default.createFile(atPath: standardOutput.path, contents: nil)
        _ = FileManager.default.createFile(atPath: standardError.path, contents: nil)
        let output = try FileHandle(forWritingTo: standardOutput)
        defer { try? output.close() }
        let errors = try FileHandle(forWritingTo: standardError)
        defer { try? errors.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = errors
        let exit = Exit()
        process.terminationHandler = { _ in exit.finish() }
        try Task.checkCancellation()
        try process.run()
        let pid = process.processIdentifier

        let killedAtDeadline = await withTaskCancellationHandler {
            await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    do { try await Task.sleep(for: timeout) } catch { return false }
                    return exit.killIfRunning(pid)
                }
                await exit.wait()
                group.cancelAll()
                return await group.next() ?? false
            }
        } onCancel: {
            _ = exit.killIfRunning(pid)
        }
        try Task.checkCancellation()

        switch process.terminationReason {
        case .exit:
            return .exited(process.terminationStatus)
        case .uncaughtSignal where killedAtDeadline && process.terminationStatus == SIGKILL:
            return .timedOut
        case .uncaughtSignal:
            return .signalled(process.terminationStatus)
        @unknown default:
            return .signalled(process.terminationStatus)
        }
    }

    /// The child's termination, awaited once.
    private final class Exit: Sendable {
        private enum State {
            case running(waiter: CheckedContinuation<Void, Never>?)
            case exited
        }

        private let state = Mutex(State.running(waiter: nil))

        /// Called from Foundation's termination handler once the child has been reaped.
        func finish() {
            let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
                guard case .running(let waiter) = state else { return nil }
                state = .exited
                return waiter
            }
            waiter?.resume()
        }

        /// Waits for ``finish()``. Not cancellable: the child is killed instead, and then it ends.
        func wait() async {
            await withCheckedContinuation { continuation in
                let exited = state.withLock { state in
                    guard case .running = state else { return true }
                    state = .running(waiter: continuation)
                    return false
                }
                if exited { continuation.resume() }
            }
        }

        /// Sends SIGKILL to `pid` unless the child is already known to have ended; answers
        /// whether it sent it.
        func killIfRunning(_ pid: Int32) -> Bool {
            state.withLock { state in
                guard case .running = state else { return false }
                return kill(pid, SIGKILL) == 0
            }
        }
    }
}
