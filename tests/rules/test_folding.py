"""One incident per outage, whichever signal shows it: replays of probe events (as the probe source writes them)
with ClipForge's own log lines, through the whole default pack. While a probe's incident is open, the log-based
alerts of the same outage fold into it instead of paging on their own."""

from __future__ import annotations

import orjson
from click.testing import CliRunner

from logpipe.cli import main

START_MS = 1_795_770_000_000  # 2026-11-27 09:00 UTC


def probe_line(at_ms: int, name: str, **fields: object) -> str:
    probe = {"name": name, "ok": True, "status": 200, "consecutive_failures": 0, "duration_ms": 3.0, **fields}
    level = "info" if probe["ok"] else "error"
    return orjson.dumps(
        {"level": level, "timestamp": at_ms, "logger": "probe", "msg": f"probe {name}", "probe": probe}
    ).decode()


def nest(at_ms: int, context: str, message: str, level: str = "log") -> str:
    return orjson.dumps({"level": level, "pid": 1, "timestamp": at_ms, "message": message, "context": context}).decode()


def pages(log: list[str]) -> list[tuple[str, str, str]]:
    """(rule, status, folded into) of each notification a replay prints."""
    result = CliRunner().invoke(main, ["replay", "-", "--format", "jsonl"], input="\n".join(log) + "\n")
    assert result.exit_code == 0, result.output
    printed = [orjson.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return [(n["rule"], n["status"], n.get("folded_into") or "") for n in printed]


def test_postgres_errors_after_the_health_check_saw_the_database_down_fold_into_its_incident() -> None:
    log = []
    for i in range(24):  # a check every 10 s for 4 minutes; the database is down from 0:30 to 3:00
        at = START_MS + i * 10_000
        down = 3 <= i < 18
        log.append(probe_line(at, "db", status=503 if down else 200, components={"database": "down" if down else "up"}))
        log.append(nest(at + 500, "HTTP", "GET /api/v1/clips 200 5ms - 900b - 10.42.1.7"))
        if 9 <= i < 18:  # the API notices a minute later (its pool's connections time out)
            log.append(nest(at + 2000, "TypeOrmModule", "Unable to connect to the database. Retrying (1)...", "error"))
            log.append(nest(at + 6000, "TypeOrmModule", "Unable to connect to the database. Retrying (2)...", "error"))
    sent = [page for page in pages(log) if not page[2]]
    assert sent == [("database-down-probe", "firing", ""), ("database-down-probe", "resolved", "")]


def test_access_log_silence_while_the_health_probe_fails_is_one_api_down_incident() -> None:
    log = [nest(START_MS + i * 1000, "HTTP", "GET /api/v1/health 200 2ms - 15b - 10.42.1.1") for i in range(60)]
    for i in range(50):  # from 1:00 the API hangs: every check times out, and no request is logged for 8 minutes
        at = START_MS + 60_000 + i * 10_000
        log.append(probe_line(at, "api", ok=False, error="timeout", consecutive_failures=i + 1, duration_ms=5000.0))
    sent = [page for page in pages(log) if not page[2]]
    assert ("api-health-probe-failing", "firing", "") in sent
    assert [page for page in sent if page[0] == "api-down"] == []
