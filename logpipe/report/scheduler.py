"""The daily digest inside `logpipe follow`: a thread that, at the scheduled time, builds the digest of the period
since the previous one and commits it to the outbox, which delivers it through the configured channels. With the
follower's trends (report/trends.py), it first writes the period's HTML report for the email to attach
(report/attachment.py); the payload names the file.

Exactly once, across restarts and kill -9: the digest's outbox id is its date (`digest-2026-11-30`), which the
outbox stores once, and the state store keeps the last date sent. A crash between the two rebuilds the digest and
finds it already stored. A digest whose time passed while logpipe was down is sent when it starts again, up to
`catch_up` late; occurrences before the schedule was first seen are not owed.

A time read from the store that lies in the future is not trusted: it was written while the clock ran ahead (a
forward jump, since put back). Trusted, a `last_date` in the future would hold every digest back until that date,
across restarts. The schedule goes on from the latest occurrence instead, and the days up to the one sent ahead
of its time are sent under ids of their own (`digest-2026-12-08.1`: the outbox keeps the early one's id).

Counts across restarts: the log-derived metrics live in memory and start from zero in each process (a restart's
warm-up does not count its lines again). What this process counted since the period began is saved with the
state every SAVE_EVERY seconds and at shutdown, and added to the next process's counts; after a kill -9 the
counts of the last few seconds before it are missing from the digest.

The schedule is judged on an injected clock (`clock`): the wall clock, or, where LOGPIPE_DIGEST_CLOCK_FILE names a
file, the time that file holds (ns since the epoch), read at each tick: a test moves a running follower's digest
time past its schedule without waiting for the day (tests/docker/test_digest.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import structlog

from logpipe.engine.metrics.model import MetricSet
from logpipe.errors import StateError
from logpipe.report.attachment import write_report
from logpipe.report.background import BackgroundJob
from logpipe.report.collect import Report
from logpipe.report.digest import Digest, from_samples, incident_lines
from logpipe.report.schedule import Occurrence, ReportConfig
from logpipe.report.trends import counted
from logpipe.sinks.dispatcher import Dispatcher
from logpipe.state.outbox import OutboxFull

log = structlog.get_logger("logpipe.digest")
SCHEDULE = "daily"  # the state store's key: one digest schedule per state directory
TICK = 1.0  # seconds between checks of the schedule
SAVE_EVERY = 10.0  # seconds between saves of the period's counts
CLOCK_FILE = "LOGPIPE_DIGEST_CLOCK_FILE"


def digest_clock() -> Callable[[], int]:
    """The clock the schedule is judged on (ns since the epoch): the wall clock, unless CLOCK_FILE names a file."""
    path = os.environ.get(CLOCK_FILE)
    if not path:
        return time.time_ns
    return lambda: int(Path(path).read_text())


class PeriodTally:
    """What the metrics counted since the period began: the counts earlier processes saved (`carried`) plus this
    process's increase over `base`. A series that went down (a rule reload reset its metric) counts from zero."""

    def __init__(self, carried: dict[str, float], base: dict[str, float]) -> None:
        self.carried, self.base = dict(carried), dict(base)

    def counts(self, current: dict[str, float]) -> dict[str, float]:
        out = dict(self.carried)
        for key, value in current.items():
            before = self.base.get(key, 0.0)
            increase = value - before if value >= before else value
            if increase:
                out[key] = out.get(key, 0.0) + increase
        return out

    def restart(self, current: dict[str, float]) -> None:
        self.carried, self.base = {}, dict(current)


class DigestScheduler(BackgroundJob):
    thread_name = "digest"

    def __init__(
        self,
        config: ReportConfig,
        dispatcher: Dispatcher,
        metrics: Callable[[], MetricSet | None],
        titles: Callable[[str], str],
        source: str = "",
        clock: Callable[[], int] | None = None,
        report: Callable[[int, int], Report] | None = None,
        reports_dir: Path | None = None,
    ) -> None:
        """`report`: the HTML report of a period (since, until), attached to the email from `reports_dir`;
        `clock`: digest_clock() when None."""
        super().__init__()
        clock = digest_clock() if clock is None else clock
        self.config, self.dispatcher, self.store = config, dispatcher, dispatcher.store
        self.report, self.reports_dir = report, reports_dir
        self.schedule = config.schedule()
        self.metrics, self.titles, self.source, self.clock = metrics, titles, source, clock
        now = clock()
        saved = self.store.records.digest_state(SCHEDULE) or {
            "last_date": "",
            "since": now,
            "watching_since": now,
            "counts": {},
        }
        self.state = saved
        self._metric_set: MetricSet | None = None
        self.tally = PeriodTally(saved.get("counts", {}), self._counted())
        self._saved_at = 0.0
        self._missed_logged = ""
        upcoming = self.schedule.next_after(now)
        log.info(
            "digest scheduled",
            next=upcoming.date.isoformat(),
            at=config.daily_at,
            timezone=config.timezone,
            last_sent=saved["last_date"] or None,
            channels=list(config.channels),
        )

    def _on_stop(self) -> None:
        """Save what this process counted (the next process carries it on)."""
        try:
            self._save(self._counted())
        except StateError as error:
            log.error("digest counts not saved", error=str(error))

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tick()
            except (StateError, OutboxFull) as error:  # the disk or the outbox: tried again at the next tick
                log.error("digest not committed, will retry", error=str(error))
            self._stopping.wait(TICK)

    def tick(self, now: int | None = None) -> bool:
        """Send the digest if one is due; True when it was committed to the outbox now."""
        now = self.clock() if now is None else now
        current = self._counted()
        occurrence = self.schedule.latest(now)
        self._distrust_the_future(occurrence, now, current)
        owed = occurrence.at >= int(self.state["watching_since"]) and occurrence.date.isoformat() > str(
            self.state["last_date"]
        )
        if owed and now - occurrence.at > self.schedule.catch_up:
            if self._missed_logged != occurrence.id:
                log.warning("digest missed: logpipe was down past its catch_up", date=occurrence.date.isoformat())
                self._missed_logged = occurrence.id
            owed = False
        if not owed:
            if time.monotonic() - self._saved_at >= SAVE_EVERY:
                self._save(current)
            return False
        self._send(occurrence, now, current)
        return True

    def _send(self, occurrence: Occurrence, now: int, current: dict[str, float]) -> None:
        since = int(self.state["since"])
        digest = Digest(occurrence.date.isoformat(), self.config.timezone, since, now, self.source, self.config.link)
        defined = [metric.name for metric in self._metric_set.metrics] if self._metric_set is not None else []
        from_samples(digest, self.tally.counts(current), defined)
        records = self.store.progress.incidents_since(since)
        digest.incidents = incident_lines(records, self.titles)
        digest.resolved = sum(1 for line in digest.incidents if line.closed is not None and line.closed >= since)
        if self.report is not None and self.reports_dir is not None and self._emails():
            try:  # the digest goes out without its report rather than not at all
                built = self.report(since, now)
                digest.report_file = write_report(built, self.reports_dir, digest.date, self.dispatcher.redactor)
            except StateError as error:
                log.error("digest report not made; the digest goes without it", error=str(error))
        outbox_id = occurrence.id
        if occurrence.date.isoformat() <= str(self.state.get("sent_ahead", "")):  # its id is the early digest's
            outbox_id = f"{occurrence.id}.{self.state['jumps']}"
        stored = self.dispatcher.enqueue_payload(outbox_id, digest.to_payload(), list(self.config.channels))
        log.info(
            "digest committed" if stored else "digest was already in the outbox",
            date=occurrence.date.isoformat(),
            id=outbox_id,
            requests=digest.requests,
            incidents=len(digest.opened()),
        )
        self.tally.restart(current)
        self.state = {**self.state, "last_date": occurrence.date.isoformat(), "since": now, "counts": {}}
        self._save(current)

    def _distrust_the_future(self, latest: Occurrence, now: int, current: dict[str, float]) -> None:
        """Times in the state later than now were written under a clock that ran ahead: the schedule goes on from
        the latest occurrence (taken as sent), and the next period starts at its time."""
        last_date, since, watching = (
            str(self.state["last_date"]),
            int(self.state["since"]),
            int(self.state["watching_since"]),
        )
        if last_date <= latest.date.isoformat() and since <= now and watching <= now:
            return
        log.warning(
            "digest state dated in the future (the clock ran ahead, then was put back): the schedule goes on from now",
            last_sent=last_date or None,
            next=self.schedule.next_after(now).date.isoformat(),
        )
        state = {**self.state, "since": since if since <= now else latest.at, "watching_since": min(watching, now)}
        if last_date > latest.date.isoformat():
            state["last_date"] = latest.date.isoformat()
            state["sent_ahead"] = max(last_date, str(self.state.get("sent_ahead", "")))
            state["jumps"] = int(self.state.get("jumps", 0)) + 1
        self.state = state
        self._save(current)

    def _emails(self) -> bool:
        """Whether an email channel gets the digest: only an email carries the report (no file written for none)."""
        return any(getattr(self.dispatcher.sinks.get(name), "email", False) for name in self.config.channels)

    def _counted(self) -> dict[str, float]:
        """The metrics' counts now; the follower's warm-up turns its metrics off for a moment (None): the last
        set seen still holds this process's counts."""
        self._metric_set = self.metrics() or self._metric_set
        return counted(self._metric_set)

    def _save(self, current: dict[str, float]) -> None:
        self.store.records.save_digest_state(SCHEDULE, {**self.state, "counts": self.tally.counts(current)})
        self._saved_at = time.monotonic()
