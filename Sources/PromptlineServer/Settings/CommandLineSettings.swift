import Foundation

/// The arguments of `promptline serve` (and the store options of `promptline keys`): settings
/// as `--name value` or `--name=value`, and where else settings come from (`--config`,
/// `--env-file`). Which names exist is the settings table's business (``Setting/all``).
package struct CommandLineSettings: Sendable {
    /// The settings given as flags, with their values as given.
    package var flags: [Setting: String] = [:]
    package var configPath: String?
    package var envFile = ".env"
    package var wantsHelp = false

    package init(flags: [Setting: String] = [:], configPath: String? = nil, envFile: String = ".env") {
        self.flags = flags
        self.configPath = configPath
        self.envFile = envFile
    }

    /// Reads the arguments; a flag without its value, or a word that is not a flag, is a problem.
    package init(_ arguments: [String]) throws(SettingsError) {
        var problems: [String] = []
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            if argument == "--help" || argument == "-h" {
                wantsHelp = true
                continue
            }
            guard argument.hasPrefix("--"), argument.count > 2 else {
                problems.append("'\(argument)': expected a setting such as --port 8001 (see promptline serve --help)")
                continue
            }
            var name = String(argument.dropFirst(2))
            let value: String
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            } else if let next = remaining.first, !Self.isOption(next) {
                value = next
                remaining = remaining.dropFirst()
            } else {
                problems.append("--\(name): needs a value")
                continue
            }
            switch name {
            case "config": configPath = value
            case "env-file": envFile = value
            default:
                guard let setting = Setting.named(name) else {
                    let names = Setting.all.map(\.flag) + ["--config", "--env-file"]
                    problems.append("--\(name): no such option\(Setting.suggestion(for: "--\(name)", among: names, quote: "")) (see promptline serve --help)")
                    continue
                }
                flags[setting] = value
            }
        }
        if !problems.isEmpty { throw SettingsError(problems: problems) }
    }

    /// Whether `argument` is an option rather than the value of the one before it.
    private static func isOption(_ argument: String) -> Bool {
        guard argument.hasPrefix("--") else { return argument == "-h" }
        let name = argument.dropFirst(2).prefix { $0 != "=" }
        return ["config", "env-file", "help"].contains(name) || Setting.named(String(name)) != nil
    }

    /// The settings from these flags over the environment over `.env` over the config file.
    package func resolve(environment processEnvironment: [String: String]) throws(SettingsError) -> ServerSettings {
        let dotenv = try DotEnv.load(path: envFile)
        let environment = DotEnv.merged(environment: processEnvironment, dotenv: dotenv)
        let file = try (configPath ?? environment["PROMPTLINE_CONFIG"]).map { path throws(SettingsError) in
            try ConfigFile.load(path: path)
        }
        return try ServerSettings.resolve(flags: flags, environment: environment, file: file).get()
    }
}
