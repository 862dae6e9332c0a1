import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A `promptline` subprocess the benchmark starts, waits for, and stops.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    let name: String
    private let stdout = Pipe()
    let logPath: String

    /// Starts `executable arguments…`, its stderr to `logPath`.
    init(name: String, executable: String, arguments: [String], logPath: String) throws {
        self.name = name
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try process.run()
    }

    /// Waits for the line starting with `prefix` on stdout and answers the port at its end
    /// (`…://HOST:PORT` or `…://HOST:PORT/v1`).
    func waitForListening(prefix: String, timeout: TimeInterval = 60) throws -> Int {
        let handle = stdout.fileHandleForReading
        let deadline = Date().addingTimeInterval(timeout)
        var text = ""
        while Date() < deadline {
            let data = handle.availableData
            if data.isEmpty {
                throw BenchError("\(name) exited before it was listening; see \(logPath)")
            }
            text += String(decoding: data, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                let address = line.split(separator: " ").last.map(String.init) ?? ""
                let hostPort = address.replacingOccurrences(of: "/v1", with: "").split(separator: ":").last
                guard let port = hostPort.flatMap({ Int($0) }) else { throw BenchError("cannot read a port from '\(line)'") }
                return port
            }
        }
        throw BenchError("\(name) did not start listening within \(Int(timeout)) s; see \(logPath)")
    }

    /// CPU time the process has used so far (user + system), from `/proc/PID/stat`.
    func cpuTime() -> Duration? {
        Self.cpuTime(of: process.processIdentifier)
    }

    /// CPU time process `pid` has used so far (user + system), from `/proc/PID/stat`.
    static func cpuTime(of pid: Int32) -> Duration? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return nil }
        // After "pid (name) ", fields count from 3 (state); utime and stime are 14 and 15.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return .seconds((user + system) / ticks)
    }

    /// Sends SIGTERM and waits for the exit; SIGKILL after 10 s. (A child may inherit a
    /// blocked SIGTERM from this process's threads, and then never see it.)
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline {
            usleep(20_000)
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
