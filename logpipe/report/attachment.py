"""The report as the daily digest's email attachment: its text redacted, rendered to the self-contained HTML page,
and written to the state directory's reports/ (0600), where the email channel picks it up by name.

The file, not the outbox, holds the page: the outbox stores each payload as JSON and redacts every string in it,
and a 4 MB page of which 3.5 MB is plotly's JavaScript is neither a payload to scan nor one to copy per channel.
The digest's payload names the file (`report_file`); only a name of the form `clipforge-report-YYYY-MM-DD.html`
is attached, from this directory only.

Redaction happens on the report's data, before rendering: every string that came from a log (exception types,
error messages, incident titles and details, labels, user ids, container names) goes through the redactor, as
every payload that leaves the host does. Redacting the page itself would run the secret scanner over plotly's
code, and a masked digit run inside the charts' JSON would break them.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections import Counter
from pathlib import Path

from logpipe.errors import StateError
from logpipe.redact import Redactor
from logpipe.report.collect import Failures, Report
from logpipe.state.directory import make_private_dir, open_private

REPORTS_DIR = "reports"  # in the state directory
KEEP_FILES = 7 * 86_400.0  # seconds a written report stays (the outbox may retry its email for a while)
_NAME = re.compile(r"^clipforge-report-\d{4}-\d{2}-\d{2}\.html$")


def report_file_name(date: str) -> str:
    return f"clipforge-report-{date}.html"


def attachment(directory: Path, name: object) -> Path | None:
    """The report file a digest payload names, if the name is one this module writes and the file is there."""
    if not isinstance(name, str) or not _NAME.match(name):
        return None
    path = directory / name
    return path if path.is_file() else None


def redacted(report: Report, redactor: Redactor) -> Report:
    """A copy of the report with every string from the logs redacted (numbers and times carry no secret)."""
    text = redactor.text

    def counter(values: Counter[str]) -> Counter[str]:
        out: Counter[str] = Counter()
        for key, count in values.items():
            out[text(key)] += count
        return out

    def failures(group: Failures) -> Failures:
        return Failures(dict(counter(Counter(group.by_label))), dict(counter(Counter(group.users))))

    return dataclasses.replace(
        report,
        source=text(report.source),
        timeline=[
            dataclasses.replace(entry, key=text(entry.key), title=text(entry.title), detail=text(entry.detail))
            for entry in report.timeline
        ],
        exceptions=counter(report.exceptions),
        error_messages=counter(report.error_messages),
        payments=failures(report.payments),
        credits=failures(report.credits),
        probes={text(name): figures for name, figures in report.probes.items()},
        memory={text(name): list(points) for name, points in report.memory.items()},
    )


def write_report(report: Report, directory: Path, date: str, redactor: Redactor) -> str:
    """Write the day's report (redacted) into `directory`; its file name. A file already there for the date was
    written by an earlier attempt at the same digest (a crash before the outbox stored it): kept as it is, so the
    digest and its attachment agree."""
    from logpipe.report.html import render_html

    name = report_file_name(date)
    path = directory / name
    if path.exists():
        return name
    make_private_dir(directory)
    page = render_html(redacted(report, redactor)).encode()
    partial = directory / (name + ".partial")
    try:
        descriptor = open_private(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC)  # through no planted link
        with os.fdopen(descriptor, "wb") as out:
            out.write(page)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)  # whole or absent: a sink never attaches half a page
    except OSError as error:
        raise StateError(f"cannot write the report {path}: {error.strerror}") from None
    _prune(directory)
    return name


def _prune(directory: Path) -> None:
    """Delete the reports older than KEEP_FILES (a deletion that fails is tried again with the next report)."""
    cutoff = time.time() - KEEP_FILES
    for old in directory.glob("clipforge-report-*.html"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            continue
