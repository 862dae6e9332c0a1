"""The Redis store: many servers on one Redis, crashes, stalls, Redis outages, the cluster view.

Tests that only share Redis use `shared_redis` (scripts/test.sh's, or one per session) with a
key prefix of their own; tests that kill, restart or configure Redis start their own.
"""

from conftest import RedisServer


def test_redis_server_fixture_keeps_acknowledged_writes_across_kill9(redis_server: RedisServer, start_redis):
    r = redis_server
    assert r.cli("SET", "fixture-key", "kept") == "OK"
    assert r.cli("CONFIG", "GET", "appendfsync").split("\n") == ["appendfsync", "always"]
    port = r.port
    r.kill9()
    assert not r.ping()
    r.restart()
    assert r.port == port
    assert r.cli("GET", "fixture-key") == "kept"
    r.stop()
    assert not r.running
    r.restart()
    assert r.cli("GET", "fixture-key") == "kept"
    # Options, a password and a database number reach the server and the URL.
    other = start_redis("--maxmemory-policy", "allkeys-lru", appendonly=False, password="s3cret")
    assert other.url == f"redis://:s3cret@127.0.0.1:{other.port}"
    assert other.cli("CONFIG", "GET", "maxmemory-policy").split("\n") == ["maxmemory-policy", "allkeys-lru"]
    assert other.cli("CONFIG", "GET", "appendonly").split("\n") == ["appendonly", "no"]
    other.cli("SET", "in-db-3", "x", db=3)
    assert other.cli("DBSIZE") == "0" and other.cli("DBSIZE", db=3) == "1"
