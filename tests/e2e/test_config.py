"""Configuration: refused with one clear line per problem, every setting in --help, precedence."""

import re

from conftest import run_promptline

EVERY_FLAG = [
    "--host", "--port", "--upstream-url", "--upstream-api-key", "--model", "--max-tokens", "--temperature",
    "--workers", "--data-dir", "--redis-url", "--upstream-timeout", "--upstream-streaming", "--max-attempts",
    "--retry-base-delay", "--retry-max-delay", "--lease", "--status-ttl", "--result-ttl", "--shutdown-grace",
    "--max-body-size", "--log-level", "--log-format", "--env-file",
]
EVERY_ENV = [
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "PROMPTLINE_MODEL", "NUM_WORKERS", "PROMPTLINE_HOST", "PROMPTLINE_PORT",
    "PROMPTLINE_DATA_DIR", "REDIS_URL", "PROMPTLINE_UPSTREAM_TIMEOUT", "PROMPTLINE_MAX_ATTEMPTS", "PROMPTLINE_LEASE",
    "PROMPTLINE_STATUS_TTL", "PROMPTLINE_RESULT_TTL", "PROMPTLINE_SHUTDOWN_GRACE", "PROMPTLINE_LOG_FORMAT",
]


def test_serve_help_lists_every_setting(tmp_path):
    r = run_promptline(["serve", "--help"], tmp_path)
    assert r.returncode == 0, r.stderr
    text = r.stdout + r.stderr
    missing = [flag for flag in EVERY_FLAG if not re.search(re.escape(flag) + r"\b", text)]
    assert not missing, f"serve --help does not list {missing}"
    missing_env = [name for name in EVERY_ENV if name not in text]
    assert not missing_env, f"serve --help does not name the variables {missing_env}"


def problem_lines(result) -> list[str]:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "no problem was reported on stderr"
    assert all(line.startswith("promptline: ") for line in lines), result.stderr
    return lines


def test_bad_settings_exit_2_with_one_line_each(tmp_path):
    r = run_promptline([
        "serve", "--port", "eighty", "--workers=-3", "--temperature", "7", "--upstream-url", "ftp://example",
        "--max-attempts", "0", "--data-dir", str(tmp_path / "d"), "--env-file", str(tmp_path / "none.env"),
    ], tmp_path)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "listening" not in r.stdout
    lines = problem_lines(r)
    assert len(lines) == 5, lines
    for name in ("port", "workers", "temperature", "upstream-url", "max-attempts"):
        assert sum(name in line for line in lines) >= 1, f"no line names {name}: {lines}"


def test_one_bad_setting_is_one_line(tmp_path):
    r = run_promptline(["serve", "--shutdown-grace", "soon", "--data-dir", str(tmp_path / "d"),
                        "--env-file", str(tmp_path / "none.env")], tmp_path)
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = problem_lines(r)
    assert len(lines) == 1 and "shutdown-grace" in lines[0], lines


def test_bad_environment_variable_is_named(tmp_path):
    r = run_promptline(["serve", "--data-dir", str(tmp_path / "d"), "--env-file", str(tmp_path / "none.env")],
                       tmp_path, env={"PROMPTLINE_MAX_ATTEMPTS": "lots", "NUM_WORKERS": "some"})
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = problem_lines(r)
    assert len(lines) == 2, lines
    assert any("PROMPTLINE_MAX_ATTEMPTS" in line for line in lines), lines
    assert any("NUM_WORKERS" in line for line in lines), lines


def test_unusable_data_dir_is_refused(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    r = run_promptline(["serve", "--port", "0", "--data-dir", str(blocker / "store"),
                        "--env-file", str(tmp_path / "none.env")], tmp_path)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = problem_lines(r)
    assert any("data-dir" in line or "PROMPTLINE_DATA_DIR" in line for line in lines), lines


def test_unknown_flag_is_refused(tmp_path):
    r = run_promptline(["serve", "--wrokers", "3"], tmp_path)
    assert r.returncode != 0
    assert "wrokers" in r.stderr, r.stderr


def test_flags_win_over_environment_which_wins_over_dotenv(mock, start_server, tmp_path):
    dotenv = tmp_path / "settings.env"
    dotenv.write_text("NUM_WORKERS=5\nPROMPTLINE_MODEL=from-dotenv\nPROMPTLINE_MAX_ATTEMPTS=2\n")
    # .env alone
    s1 = start_server(mock, workers=None, env_file=dotenv)
    assert s1.stats()["workers"] == 5
    [t] = s1.submit(["which model"])
    s1.wait_one(t)
    assert s1.detail(t)["model"] == "from-dotenv"
    # the environment over .env
    s2 = start_server(mock, workers=None, env_file=dotenv, env={"NUM_WORKERS": "3", "PROMPTLINE_MODEL": "from-env"})
    assert s2.stats()["workers"] == 3
    [t] = s2.submit(["which model now"])
    s2.wait_one(t)
    assert s2.detail(t)["model"] == "from-env"
    # a flag over both
    s3 = start_server(mock, workers=2, env_file=dotenv, env={"NUM_WORKERS": "3"}, model="from-flag")
    assert s3.stats()["workers"] == 2
    [t] = s3.submit(["which model at last"])
    s3.wait_one(t)
    assert s3.detail(t)["model"] == "from-flag"


def test_environment_sets_the_upstream(mock, start_server):
    # No --upstream-url flag: OPENAI_BASE_URL points at the mock.
    server = start_server(None, env={"OPENAI_BASE_URL": mock.url})
    [t] = server.submit(["found through the environment"])
    assert server.wait_one(t)["status"] == "completed"
    assert mock.count("found through the environment") == 1


def test_a_busy_port_is_refused(mock, start_server, tmp_path):
    first = start_server(mock)
    r = run_promptline(["serve", "--port", str(first.port), "--upstream-url", mock.url,
                        "--data-dir", str(tmp_path / "other"), "--env-file", str(tmp_path / "none.env")],
                       tmp_path, timeout=30)
    assert r.returncode != 0, "a second server on a busy port must not start"
    assert "listening" not in r.stdout
    assert str(first.port) in r.stderr or "address" in r.stderr.lower(), r.stderr


def test_config_file_sets_settings_below_environment_and_flags(mock, start_server, tmp_path):
    config = tmp_path / "promptline.toml"
    config.write_text('# settings\nworkers = 5\nmodel = "from-file"\nmax_attempts = 2\n')
    s1 = start_server(mock, workers=None, config=config)
    assert s1.stats()["workers"] == 5
    [t] = s1.submit(["model from the file"])
    s1.wait_one(t)
    assert s1.detail(t)["model"] == "from-file"
    # the environment over the file, a flag over both
    s2 = start_server(mock, workers=3, env={"PROMPTLINE_CONFIG": str(config), "PROMPTLINE_MODEL": "from-env"})
    assert s2.stats()["workers"] == 3
    [t] = s2.submit(["model from the environment"])
    s2.wait_one(t)
    assert s2.detail(t)["model"] == "from-env"


def test_config_file_problems_name_the_file_the_line_and_the_key(tmp_path):
    config = tmp_path / "promptline.toml"
    config.write_text('port = 8001\n\nwrokers = 3\nupstream_streaming = "yes"\n')
    r = run_promptline(["serve", "--config", str(config), "--data-dir", str(tmp_path / "d"),
                        "--env-file", str(tmp_path / "none.env")], tmp_path)
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = problem_lines(r)
    assert lines == [
        f"promptline: {config}:3: 'wrokers' is not a setting (did you mean 'workers'?)",
        f"promptline: {config}:4: upstream_streaming must be a boolean (true or false), not a string",
    ], lines
