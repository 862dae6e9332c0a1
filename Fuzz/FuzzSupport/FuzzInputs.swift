#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the fuzz targets share: their entry point, and the check that fails a run.
///
/// Built with `-sanitize=fuzzer -DFUZZING` (`scripts/fuzz.sh`) a target hands its body to
/// libFuzzer; in the normal build it replays the files named on the command line (or every
/// file in the directories named), so the same executable replays the seed corpus and every
/// finding.
public enum FuzzInputs {
    /// A fuzz target's `main`: runs libFuzzer on `body` in a fuzz build, else ``run(_:body:)``
    /// on the command line's arguments.
    public static func main(_ body: @escaping (UnsafeBufferPointer<UInt8>) -> Void) -> Never {
        #if FUZZING
        target = body
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            FuzzInputs.target?(UnsafeBufferPointer(start: data, count: size))
            return 0
        })
        #else
        run(CommandLine.arguments.dropFirst(), body: body)
        #endif
    }

    /// Feeds `body` every file named in `arguments` (a directory stands for the files in it)
    /// and exits: 0 when every input passed, 2 when an argument could not be read. A failed
    /// check stops the process with the input's name.
    public static func run(_ arguments: some Collection<String>, body: (UnsafeBufferPointer<UInt8>) -> Void) -> Never {
        var count = 0
        for argument in arguments {
            for path in files(at: argument) {
                guard let bytes = read(path) else {
                    printError("cannot read \(path)")
                    exit(2)
                }
                current = path
                bytes.withUnsafeBufferPointer(body)
                count += 1
            }
        }
        print("\(count) inputs passed")
        exit(0)
    }

    /// Stops the process (a finding for libFuzzer) when `condition` is false.
    public static func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
        guard !condition() else { return }
        printError("fuzz check failed\(current.map { " on \($0)" } ?? ""): \(message())")
        abort()
    }

    /// A number from 0 up to `bound` (exclusive) that depends only on `bytes`: where to split
    /// an input, the same on every replay.
    public static func split(_ bytes: UnsafeBufferPointer<UInt8>, below bound: Int) -> Int {
        guard bound > 1 else { return 0 }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes.prefix(64) { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int(hash % UInt64(bound))
    }

    nonisolated(unsafe) private static var current: String?
    /// The body libFuzzer calls, set once before it starts.
    nonisolated(unsafe) private static var target: ((UnsafeBufferPointer<UInt8>) -> Void)?

    private static func printError(_ message: String) {
        let line = Array((message + "\n").utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    private static func files(at path: String) -> [String] {
        guard let directory = opendir(path) else { return [path] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.hasPrefix(".") { names.append(path + "/" + name) }
        }
        return names.sorted()
    }

    private static func read(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let read = fread(&chunk, 1, chunk.count, file)
            if read == 0 { break }
            bytes.append(contentsOf: chunk[..<read])
        }
        return ferror(file) == 0 ? bytes : nil
    }
}

#if FUZZING
/// libFuzzer's entry point for a program that has its own `main`.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif
