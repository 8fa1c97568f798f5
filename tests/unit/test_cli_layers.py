"""The user's rules on top of the pack, through the real CLI: a file that adds a rule adds one rule, an override
switches a pack rule off or retunes it (and `rules show` says where each setting came from), and a name that
matches no rule (an override, a silence, a maintenance window, --rule) is refused with the closest ids."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import orjson
import yaml
from click.testing import CliRunner, Result

from logpipe.cli import main
from logpipe.engine import default_rules_dir
from tests.unit.engine.test_layers import REFUND_RULE

T0 = "2026-11-27T09:00:00.000000000Z"
REFUND = "[Nest] 1  - 11/27/2026, 9:01:10 AM   ERROR [RefundsService] Refund failed: re_1 (card_declined)"
PG_ERROR = (
    "[Nest] 1  - 11/27/2026, 9:03:03 AM   ERROR [TypeOrmModule] Unable to connect to the database. Retrying (1)..."
)


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin)


def docker_log(lines: list[tuple[int, str]]) -> str:
    """`docker logs -t` lines: the event time is each line's Docker timestamp (seconds after 09:00)."""
    out = []
    for seconds, line in lines:
        hours, rest = divmod(seconds, 3600)
        stamp = f"2026-11-{27 + hours // 24:02d}T{9 + hours % 24:02d}:{rest // 60:02d}:{rest % 60:02d}.000000000Z"
        out.append(f"{stamp} {line}")
    return "\n".join(out) + "\n"


def pack_line(file: str, rule_id: str, key: str) -> int:
    """The line of a rule's setting in the pack (found, not written down: the pack's files change)."""
    lines = (default_rules_dir() / file).read_text().splitlines()
    start = lines.index(f"  - id: {rule_id}")
    return next(number for number, line in enumerate(lines[start:], start + 1) if line.startswith(f"    {key}:"))


def notified(result: Result) -> list[tuple[str, str]]:
    assert result.exit_code == 0, result.output
    return [(n["rule"], n["status"]) for n in map(orjson.loads, result.stdout.splitlines())]


def user_rules(tmp_path: Path, text: str, name: str = "mine.yml") -> Path:
    folder = tmp_path / "rules.d"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder


def config_with(tmp_path: Path, folder: Path, extra: str = "") -> Path:
    config = tmp_path / "logpipe.yml"
    config.write_text(f"state_dir: state\nrules:\n  - pack: clipforge\n  - {folder.name}/\n{extra}")
    return config


def test_a_user_file_adds_a_rule_beside_the_pack(tmp_path: Path) -> None:
    config = config_with(tmp_path, user_rules(tmp_path, REFUND_RULE))
    listed = run("rules", "list", "--config", str(config))
    ids = [line.split()[0] for line in listed.stdout.splitlines()]
    assert ids[-1] == "refund-failed-burst"
    assert len(ids) == len(run("rules", "list").stdout.splitlines()) + 1
    assert listed.stdout.splitlines()[-1].endswith(f"[{tmp_path / 'rules.d' / 'mine.yml'}:2]")
    log = docker_log([(0, REFUND), (60, REFUND), (120, REFUND)])
    replayed = run("replay", "--config", str(config), "-o", "json", "--wait", "0s", "-", stdin=log)
    assert ("refund-failed-burst", "firing") in notified(replayed)
    # the same on the command line: the pack, then the user's directory
    same = run(
        "replay", "--rules", "pack:clipforge", "--rules", str(tmp_path / "rules.d"), "-o", "json", "-", stdin=log
    )
    assert notified(same) == notified(replayed)


def test_enabled_false_turns_off_signups_low(tmp_path: Path) -> None:
    # a day and an hour without a signup: the pack's signups-low fires (README: until the API logs them)
    log = docker_log([(0, "[Nest] 1  - 11/27/2026, 9:00:00 AM     LOG [NestApplication] Nest application started"),
                      (25 * 3600, "[Nest] 1  - 11/28/2026, 10:00:00 AM     LOG [AppService] still here")])  # fmt: skip
    assert ("signups-low", "firing") in notified(run("replay", "-o", "json", "-", stdin=log))
    config = config_with(tmp_path, user_rules(tmp_path, "overrides:\n  - id: signups-low\n    enabled: false\n"))
    replayed = notified(run("replay", "--config", str(config), "-o", "json", "-", stdin=log))
    assert [n for n in replayed if n[0] == "signups-low"] == []
    assert ("api-down", "firing") in replayed  # the rest of the pack runs as before
    (line,) = [
        line for line in run("rules", "list", "--config", str(config)).stdout.splitlines() if "signups-low" in line
    ]
    assert " off " in line
    defined = pack_line("business.yml", "signups-low", "kind") - 1
    assert line.endswith(f"[pack:clipforge/business.yml:{defined}; enabled from {tmp_path / 'rules.d' / 'mine.yml'}:3]")


def test_an_override_raises_the_postgres_burst_count_and_rules_show_says_where_each_field_came_from(
    tmp_path: Path,
) -> None:
    log = docker_log([(10, PG_ERROR), (20, PG_ERROR), (30, PG_ERROR), (40, PG_ERROR)])
    assert ("postgres-connection-errors-burst", "firing") in notified(run("replay", "-o", "json", "-", stdin=log))
    config = config_with(
        tmp_path, user_rules(tmp_path, "overrides:\n  - id: postgres-connection-errors-burst\n    count: 5\n")
    )
    tuned = notified(run("replay", "--config", str(config), "-o", "json", "-", stdin=log))
    assert ("postgres-connection-errors-burst", "firing") not in tuned
    assert ("postgres-connection-error", "firing") in tuned  # four single errors, no burst to fold them
    shown = run("rules", "show", "postgres-connection-errors-burst", "--config", str(config))
    assert shown.exit_code == 0, shown.output
    settings = {line.split(":", 1)[0]: line for line in shown.stdout.splitlines() if not line.startswith(("#", " "))}
    database = "pack:clipforge/database.yml"
    count_line, window_line = (
        pack_line("database.yml", "postgres-connection-errors-burst", key) for key in ("count", "window")
    )
    assert settings["count"].startswith("count: 5 ")
    assert settings["count"].endswith(f"  # {tmp_path / 'rules.d' / 'mine.yml'}:3 (was 3 at {database}:{count_line})")
    assert settings["window"].endswith(f"  # {database}:{window_line}")
    assert settings["throttle"].startswith("throttle: 10m ")
    assert settings["repeat_interval"].endswith("  # default")
    assert yaml.safe_load(shown.stdout)["count"] == 5  # the effective rule is YAML that loads back


def test_an_override_naming_an_unknown_rule_is_refused_with_did_you_mean(tmp_path: Path) -> None:
    config = config_with(
        tmp_path, user_rules(tmp_path, "overrides:\n  - id: stripe-webhook-signatur\n    severity: info\n")
    )
    for command in (["rules", "check"], ["replay", "-"]):
        result = run(*command, "--config", str(config), stdin="")
        assert result.exit_code == 1
        assert (
            "mine.yml:2: overrides[0].id: no rule 'stripe-webhook-signatur' to override; did you mean "
            "'stripe-webhook-signature'?" in result.output
        )


def test_a_silence_naming_an_unknown_rule_is_refused_with_did_you_mean(tmp_path: Path) -> None:
    config = config_with(tmp_path, user_rules(tmp_path, REFUND_RULE))
    args = ["silence", "add", "--config", str(config), "--for", "30m", "--reason", "drill"]
    refused = run(*args, "--rule", "stripe-webhook-signatur")
    assert refused.exit_code == 2
    assert "no rule 'stripe-webhook-signatur'; did you mean 'stripe-webhook-signature'?" in refused.output
    assert "would mute nothing (--force to add it anyway)" in refused.output
    assert run(*args, "--rule", "refund-failed-burst").exit_code == 0  # a user's rule is a rule
    no_label = run(*args, "--rule", "stripe-webhook-signature", "--match", "team=payments")
    assert no_label.exit_code == 2
    assert "no incident of stripe-webhook-signature carries team=payments (its labels: container)" in no_label.output
    forced = run(*args, "--rule", "stripe-webhook-signatur", "--force")
    assert forced.exit_code == 0, forced.output
    listed = run("silence", "list", "--config", str(config), "-o", "json")
    assert sorted(orjson.loads(line)["rule"] for line in listed.stdout.splitlines()) == [
        "refund-failed-burst",
        "stripe-webhook-signatur",
    ]


def test_a_maintenance_window_naming_an_unknown_rule_is_refused(tmp_path: Path) -> None:
    window = (
        "maintenance:\n"
        "  - {name: db, start: '03:00', duration: 1h, rules: [postgres-connection-error, postgres-burst]}\n"
    )
    config = config_with(tmp_path, user_rules(tmp_path, REFUND_RULE), window)
    result = run("rules", "check", "--config", str(config))
    assert result.exit_code == 1
    assert f"{config}:6: maintenance[0].rules[1]: no rule 'postgres-burst'; did you mean " in result.output


def test_rule_options_name_loaded_rules(tmp_path: Path) -> None:
    result = run("rules", "explain", "x", "--rule", "http-eror-rate")
    assert result.exit_code == 2
    assert "no rule 'http-eror-rate'; did you mean 'http-error-rate'?" in result.output
    assert "did you mean 'api-down'?" in run("rules", "show", "api-dwn").output


def test_type_for_kind_is_one_problem(tmp_path: Path) -> None:
    folder = user_rules(tmp_path, REFUND_RULE.replace("kind: threshold", "type: threshold"))
    result = run("rules", "check", "--rules", str(folder))
    assert result.exit_code == 1
    assert result.output.splitlines()[1:] == [
        f"{folder / 'mine.yml'}:3: rules[0].type: unknown key 'type'; did you mean `kind: threshold`?"
    ]


def test_a_condition_on_a_field_no_event_carries_warns_and_strict_refuses(tmp_path: Path) -> None:
    typo = "match: {any: [{message: {regex: '^Refund failed:'}}, {msg: x}]}"
    folder = user_rules(tmp_path, REFUND_RULE.replace("match: {message: {regex: '^Refund failed:'}}", typo))
    warned = run("rules", "check", "--rules", str(folder))
    assert warned.exit_code == 0
    assert f"warning: {folder / 'mine.yml'}:7: rules[0].match.any[1].msg: no event carries field 'msg'" in warned.stderr
    assert "did you mean 'message'?" in warned.stderr
    strict = run("rules", "check", "--strict", "--rules", str(folder))
    assert strict.exit_code == 1
    assert "1 problem(s) in the rules (--strict)" in strict.output


def test_the_old_positional_form_still_works_with_a_note(tmp_path: Path) -> None:
    folder = user_rules(tmp_path, REFUND_RULE)
    for command in ("check", "test", "list"):
        result = run("rules", command, str(folder))
        assert result.exit_code == 0, result.output
        assert (
            f"note: `logpipe rules {command} PATH` is deprecated; write `logpipe rules {command} --rules {folder}`"
            in result.stderr
        )


def test_rules_test_runs_the_tests_over_time_and_writes_junit(tmp_path: Path) -> None:
    from tests.unit.ruletests.test_ruletests import TESTS

    folder = user_rules(tmp_path, REFUND_RULE, "refunds.yml")
    (folder / "refunds.test.yml").write_text(TESTS.replace("count: 3, total: 3}", "count: 2, total: 2}"))
    report = tmp_path / "junit.xml"
    result = run("rules", "test", "--rules", "pack:clipforge", "--rules", str(folder), "--junit-xml", str(report))
    assert result.exit_code == 1
    assert f"FAIL {folder / 'refunds.test.yml'}:2 three refund failures in five minutes page once" in result.output
    assert "     - +2m refund-failed-burst firing count=2 total=2" in result.output
    assert "     + +2m refund-failed-burst firing count=3 total=3" in result.output
    root = ET.parse(report).getroot()
    assert root.get("failures") == "1"
    names = {case.get("name") for case in root.iter("testcase")}
    assert {"three refund failures in five minutes page once", "refund-failed-burst", "signups-low"} <= names


def test_every_list_command_speaks_json(tmp_path: Path) -> None:
    nowhere = "channels:\n  nowhere: {url: 'http://127.0.0.1:9/x', kind: webhook}\n"  # a state store, nothing sent
    config = config_with(tmp_path, user_rules(tmp_path, REFUND_RULE), nowhere)
    assert (
        run(
            "replay", "--config", str(config), "-o", "json", "--wait", "0", "-", stdin=docker_log([(0, REFUND)])
        ).exit_code
        == 0
    )
    rules = [
        orjson.loads(line) for line in run("rules", "list", "--config", str(config), "-o", "json").stdout.splitlines()
    ]
    assert rules[-1]["id"] == "refund-failed-burst"
    incidents = run("incidents", "--config", str(config), "-o", "json")
    assert incidents.exit_code == 0, incidents.output
    assert all(isinstance(orjson.loads(line), dict) for line in incidents.stdout.splitlines())
    assert run("silence", "list", "--config", str(config), "-o", "json").stdout == ""
    outbox = run("outbox", "--config", str(config), "-o", "json")
    assert outbox.exit_code == 0, outbox.output
    assert all(isinstance(orjson.loads(line), dict) for line in outbox.stdout.splitlines())


def test_durations_take_units_and_bare_numbers_keep_their_meaning(tmp_path: Path) -> None:
    for wait in ("0", "0.5", "1s", "2m"):
        assert run("replay", "--wait", wait, "-o", "json", "-", stdin="").exit_code == 0
    bad = run("replay", "--wait", "soon", "-")
    assert bad.exit_code == 2
    assert "expected a duration like 30s, 5m or 2h (or a number of seconds), got 'soon'" in bad.output
    assert (
        "expected a duration like 30s, 5m or 2h, got '30'"
        in run("silence", "add", "--rule", "*", "--for", "30", "--reason", "x").output
    )


def complete(words: str) -> list[str]:
    """What the shell's completion offers after `words` (bash's protocol, as `eval "$(_LOGPIPE_COMPLETE=bash_source
    logpipe)"` wires it), through the console script."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "_LOGPIPE_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
    }
    script = str(Path(sys.executable).parent / "logpipe")
    done = subprocess.run([script], env=env, capture_output=True, text=True, timeout=60, check=False)
    return done.stdout.splitlines()


def test_the_shell_completes_rule_ids_and_rule_sources(tmp_path: Path) -> None:
    assert complete("logpipe rules show api-") == [
        "plain,api-down",
        "plain,api-health-probe-failing",
        "plain,api-process-restarted",
        "plain,api-uptime-below-99",
    ]
    config = config_with(tmp_path, user_rules(tmp_path, REFUND_RULE))
    assert complete(f"logpipe silence add --config {config} --rule refund") == ["plain,refund-failed-burst"]
    assert "plain,pack:clipforge" in complete("logpipe replay --rules pack")


def test_an_override_s_routes_are_checked_against_the_config_s_channels_at_its_line(tmp_path: Path) -> None:
    folder = user_rules(tmp_path, "overrides:\n  - id: stripe-webhook-signature\n    routes: [oncall-slak]\n")
    config = config_with(tmp_path, folder, "channels:\n  oncall-slack: {url: 'https://hooks.slack.com/x'}\n")
    result = run("rules", "check", "--config", str(config))
    assert result.exit_code == 1
    assert (
        f"{folder / 'mine.yml'}:3: rules[stripe-webhook-signature].actions: unknown channel 'oncall-slak'; "
        "the config defines: oncall-slack, sentry"
    ) in result.output
