"""README's "Write your own rule" runs as written: in an empty directory, each file it shows is written (a YAML
block whose first line is `# path`; `(at its end)` appends), each command of its `sh` blocks runs through the
installed `logpipe` in a shell and must succeed, and every line of the `text` block after it must be in what the
commands printed (spaces runs as one; `...` stands for anything). The pack's tunables table loads too."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from logpipe.engine import default_rules_dir, load_rules
from tests.conftest import ROOT

README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)


@dataclass(frozen=True)
class Block:
    language: str
    text: str


def walkthrough() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    start, end = text.index("<!-- walkthrough -->"), text.index("<!-- /walkthrough -->")
    return [Block(language, body) for language, body in FENCE.findall(text[start:end])]


def squeezed(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text).strip()


def printed(expected: str, output: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in squeezed(expected).split("..."))
    return any(re.fullmatch(pattern, squeezed(line)) for line in output.splitlines())


def run_walkthrough(directory: Path) -> list[str]:
    """The commands run, in order, after writing the files shown before each."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("LOGPIPE_CONFIG", None)
    ran: list[str] = []
    output = ""  # what the last `sh` block's commands printed
    for block in walkthrough():
        if block.language == "yaml":
            head, _, body = block.text.partition("\n")
            name = head.removeprefix("# ")
            append = name.endswith(" (at its end)")
            path = directory / name.removesuffix(" (at its end)")
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a" if append else "w", encoding="utf-8") as out:
                out.write(body)
        elif block.language == "sh":
            output = ""
            for command in [line for line in block.text.splitlines() if line and not line.startswith("#")]:
                done = subprocess.run(
                    command,
                    shell=True,
                    cwd=directory,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=300,
                    check=False,
                )
                assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
                ran.append(command)
                output += done.stdout + done.stderr
        elif block.language == "text":
            missing = [line for line in block.text.splitlines() if line.strip() and not printed(line, output)]
            assert missing == [], f"not printed by {ran[-1]!r}:\n{missing}\n--- it printed:\n{output}"
    return ran


def test_the_walkthrough_runs_as_written(tmp_path: Path) -> None:
    blocks = walkthrough()
    assert [b.language for b in blocks].count("sh") >= 4
    commands = run_walkthrough(tmp_path)
    assert commands[-1].split()[:3] == ["logpipe", "rules", "test"]
    assert (tmp_path / "rules-junit.xml").exists()  # --junit-xml wrote its report


def test_the_documented_tunables_load_on_the_pack(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### The pack's tunables") :]
    table = section[: section.index("\n## ")]
    overrides = re.findall(r"`(- \{id: .*?\})`", table)
    assert len(overrides) >= 8
    (tmp_path / "tunables.yml").write_text("overrides:\n" + "".join(f"  {item}\n" for item in overrides))
    ruleset = load_rules([default_rules_dir(), tmp_path])
    assert ruleset.entries["signups-low"].model.min_count == 2  # type: ignore[union-attr]
    assert ruleset.entries["postgres-connection-errors-burst"].model.count == 5  # type: ignore[union-attr]
