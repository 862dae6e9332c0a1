import Foundation

/// Reads a `.env` file: `KEY=VALUE` lines, `#` comments, optional `export `, and values in
/// single or double quotes.
package enum DotEnv {
    /// The variables of the file at `path`; an absent file is an empty set.
    package static func load(path: String) throws(SettingsError) -> [String: String] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.readToEnd() ?? Data() else {
            throw SettingsError(problems: ["--env-file: cannot read '\(path)'"])
        }
        return parse(String(decoding: data, as: UTF8.self))
    }

    package static func parse(_ text: String) -> [String: String] {
        var variables: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            var line = line.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            if line.hasPrefix("export ") { line.removeFirst("export ".count) }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = String(value.dropFirst().dropLast())
            } else if let comment = value.range(of: " #") {
                value = value[..<comment.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            guard !key.isEmpty else { continue }
            variables[key] = value
        }
        return variables
    }

    /// The process environment over the `.env` file's: a variable set in the environment wins.
    package static func merged(environment: [String: String], dotenv: [String: String]) -> [String: String] {
        dotenv.merging(environment) { _, fromEnvironment in fromEnvironment }
    }
}
