import Foundation

/// The config file (`--config FILE` / `PROMPTLINE_CONFIG`): TOML, one key per setting, named
/// as the flag with `_` for `-` (`upstream_url = "http://…"`).
package struct ConfigFile: Sendable, Equatable {
    package var path: String
    package var table: TOMLTable

    package init(path: String, table: TOMLTable) {
        self.path = path
        self.table = table
    }

    /// Reads and parses the file; a file that cannot be read or parsed is one problem line.
    package static func load(path: String) throws(SettingsError) -> ConfigFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SettingsError(problems: ["--config / PROMPTLINE_CONFIG: cannot read '\(path)'"])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SettingsError(problems: ["\(path): not UTF-8 text"])
        }
        return try parse(text, path: path)
    }

    package static func parse(_ text: String, path: String) throws(SettingsError) -> ConfigFile {
        do {
            return ConfigFile(path: path, table: try TOMLTable.parse(text))
        } catch {
            throw SettingsError(problems: ["\(path):\(error.line): \(error.reason)"])
        }
    }
}

extension ServerSettings {
    /// Resolves the settings: a flag wins over the environment (merge `.env` below it with
    /// ``DotEnv``), which wins over the config file, which wins over the default. Answers
    /// every problem found, one line each, rather than the first.
    package static func resolve(
        flags: [Setting: String], environment: [String: String], file: ConfigFile? = nil
    ) -> Result<ServerSettings, SettingsError> {
        var problems: [String] = []
        var fromFile: [String: (raw: String, line: Int)] = [:]
        if let file {
            fromFile = values(of: file, problems: &problems)
        }
        var settings = ServerSettings()
        for setting in Setting.all {
            let source: String
            let raw: String
            if let value = flags[setting] {
                (source, raw) = (setting.flag, value)
            } else if let name = setting.environment.first(where: { environment[$0] != nil }), let value = environment[name] {
                (source, raw) = (name, value)
            } else if let file, let value = fromFile[setting.fileKey] {
                (source, raw) = ("\(file.path):\(value.line): \(setting.fileKey)", value.raw)
            } else {
                continue
            }
            do {
                try setting.apply(raw.trimmingCharacters(in: .whitespaces), &settings)
            } catch {
                problems.append("\(source): \(error.reason)")
            }
        }
        if flags[.redisURL] == nil, environment["REDIS_URL"] == nil, let host = environment["REDIS_HOST"] {
            settings.redisURL = redisURL(host: host, port: environment["REDIS_PORT"], db: environment["REDIS_DB"], password: environment["REDIS_PASSWORD"])
        }
        problems += settings.problems()
        return problems.isEmpty ? .success(settings) : .failure(SettingsError(problems: problems))
    }

    /// The file's values as the strings a flag would give, each with its line; an unknown
    /// key or a value of the wrong kind is a problem.
    private static func values(of file: ConfigFile, problems: inout [String]) -> [String: (raw: String, line: Int)] {
        var values: [String: (raw: String, line: Int)] = [:]
        for entry in file.table.entries {
            let at = "\(file.path):\(entry.line)"
            guard let setting = Setting.forFileKey(entry.key) else {
                let known = Setting.all.map(\.fileKey)
                problems.append("\(at): '\(entry.key)' is not a setting\(Setting.suggestion(for: entry.key, among: known, quote: "'"))")
                continue
            }
            let raw: String? = switch (setting.kind, entry.value) {
            case (.text, .string(let text)): text
            case (.integer, .integer(let number)): String(number)
            case (.number, .integer(let number)): String(number)
            case (.number, .float(let number)): String(number)
            case (.boolean, .boolean(let flag)): String(flag)
            default: nil
            }
            guard let raw else {
                problems.append("\(at): \(entry.key) must be \(setting.kind.tomlName), not \(entry.value.kindName)")
                continue
            }
            values[entry.key] = (raw, entry.line)
        }
        return values
    }
}

extension Setting {
    /// ` (did you mean 'workers'?)` when one name is a small typo away.
    static func suggestion(for name: String, among names: [String], quote: String) -> String {
        let scored = names.map { ($0, editDistance(name, $0)) }.filter { $0.1 <= 2 }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return "" }
        return " (did you mean \(quote)\(best.0)\(quote)?)"
    }

    /// Levenshtein distance: the fewest single-character edits from `a` to `b`.
    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}

extension Setting.Kind {
    /// What the config file must hold for this kind.
    var tomlName: String {
        switch self {
        case .text: "a string"
        case .integer: "an integer"
        case .number: "a number"
        case .boolean: "a boolean (true or false)"
        }
    }
}

/// Settings as they may be printed or logged, derived from the table: a secret shows only as
/// `set` or `none`, a Redis password as `***`.
/// `dump` and debuggers see the same masked fields.
extension ServerSettings: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    package var description: String {
        let fields = Setting.all.map { "\($0.name)=\($0.show(self) ?? "none")" }
        return "ServerSettings(\(fields.joined(separator: ", ")))"
    }

    package var debugDescription: String { description }

    package var customMirror: Mirror {
        Mirror(self, children: Setting.all.map { (label: $0.name, value: $0.show(self) ?? "none" as Any) }, displayStyle: .struct)
    }
}
