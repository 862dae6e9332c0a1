/// `promptline serve --help` and `docs/configuration.md`, both written from ``Setting/all``.
extension Setting {
    /// The options of `serve` that are not settings: where settings come from.
    package static let sourceOptions: [(flag: String, help: String)] = [
        ("--config <file>", "A TOML file of settings, keys named as the flags with _ for - (port = 8001). Env: PROMPTLINE_CONFIG."),
        ("--env-file <file>", "The .env file to read. Default: .env in the working directory."),
        ("-h, --help", "Show this help."),
    ]

    /// How the sources of a setting rank, in one sentence.
    package static let precedence =
        "A flag wins over the environment (a variable of the .env file counts as the environment's, below a real one), which wins over the config file, which wins over the default."

    /// The help of `promptline serve`, wrapped at `width` columns.
    package static func serveHelp(width: Int = 100) -> String {
        var lines = [
            "OVERVIEW: Run the Promptline server.",
            "",
        ]
        lines += wrap(
            "Every setting comes from its flag, its environment variable, or its key in the config file. \(precedence)",
            width: width, indent: 0
        )
        lines += ["", "USAGE: promptline serve [--config <file>] [--env-file <file>] [--<setting> <value> ...]", "", "OPTIONS:"]
        lines += sourceOptions.flatMap { column($0.flag, $0.help, width: width) }
        lines += ["", "SETTINGS:"]
        lines += all.flatMap { column("\($0.flag) \($0.kind.placeholder)", $0.help, width: width) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `docs/configuration.md`; a test holds the file to this.
    package static func reference() -> String {
        var text = """
            # Configuration

            <!-- Generated from the settings table (Sources/PromptlineServer/Settings/Setting+Table.swift); \
            PROMPTLINE_UPDATE_DOCS=1 swift test --filter SettingsReferenceTests rewrites it. -->

            Every setting of `promptline serve` comes from a flag, an environment variable or a key of the
            config file. \(precedence) `promptline serve --help` prints the same list.

            A problem with any setting stops the server before it starts, one line per problem, exit status 2:

            ```console
            $ cat promptline.toml
            port = 8001
            wrokers = 32
            $ promptline serve --config promptline.toml --temperature 7
            promptline: promptline.toml:2: 'wrokers' is not a setting (did you mean 'workers'?)
            promptline: --temperature: 7 is out of range (0 to 2)
            ```

            ## The config file

            `--config FILE` or `PROMPTLINE_CONFIG` names a [TOML](https://toml.io) file. Its keys are the
            flags' names with `_` for `-`; a value has the kind the table gives (a string in quotes, an
            integer, a number, `true` or `false`). An unknown key, or a value of the wrong kind, is refused
            with the file, the line and the key.

            ```toml
            # promptline.toml
            host = "0.0.0.0"
            port = 8001
            upstream_url = "http://127.0.0.1:9100/v1"
            workers = 32
            result_ttl = 86400.0
            upstream_streaming = false
            ```

            Secrets (the upstream's API key, the webhook secret) are better kept in the environment or
            `.env` than in a file that is shared; they are never printed: the start-up log and every
            message show them as `set` or `none`.

            ## Every setting

            | flag | environment | file key | kind | default | what it does |
            |---|---|---|---|---|---|

            """
        for setting in all {
            let environment = setting.environment.map { "`\($0)`" }.joined(separator: ", ")
            let secret = setting.isSecret ? " Secret." : ""
            text += "| `\(setting.flag)` | \(environment) | `\(setting.fileKey)` | \(setting.kind.rawValue) | \(setting.defaultText) | \(setting.summary)\(secret) |\n"
        }
        text += """

            `REDIS_HOST`, `REDIS_PORT` (6379), `REDIS_DB` (0) and `REDIS_PASSWORD` make a Redis URL when
            neither `--redis-url` nor `REDIS_URL` is given.

            """
        return text
    }

    /// `  --flag <n>    help…`, the help wrapped in its own column.
    private static func column(_ label: String, _ help: String, width: Int) -> [String] {
        let indent = 30
        let first = "  \(label)"
        let wrapped = wrap(help, width: width, indent: indent)
        if first.count + 2 <= indent {
            let padded = first.padding(toLength: indent, withPad: " ", startingAt: 0)
            return [padded + wrapped[0].dropFirst(indent)] + wrapped.dropFirst()
        }
        return [first] + wrapped
    }

    private static func wrap(_ text: String, width: Int, indent: Int) -> [String] {
        let margin = String(repeating: " ", count: indent)
        var lines: [String] = []
        var line = margin
        for word in text.split(separator: " ") {
            if line.count > indent, line.count + 1 + word.count > width {
                lines.append(line)
                line = margin
            }
            line += (line.count > indent ? " " : "") + word
        }
        lines.append(line)
        return lines
    }
}
