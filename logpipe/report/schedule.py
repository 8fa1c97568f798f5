"""The daily digest's schedule: the `report:` section of logpipe.yml, and which day's digest is due at a moment.

    report:
      daily_at: "08:00"              # HH:MM (or HH:MM:SS) in `timezone`
      timezone: Europe/Berlin        # an IANA name; default UTC
      channels: [oncall-email, oncall-slack]   # channels of the config (not sentry)
      link: https://grafana.clipforge.app/d/api # optional: shown in the digest (a dashboard, a shared report)
      catch_up: 6h                   # a digest missed while logpipe was down goes out late, up to this long
      keep: 48h                      # the per-minute trends kept for the report (report/trends.py), 1h to 31d

A digest is named by the local date it is for (`digest-2026-11-30`), so the outbox stores each day's once.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from logpipe.config.durations import parse_duration
from logpipe.config.fields import Duration, TimeZoneName

DEFAULT_KEEP = parse_duration("48h")  # the trends kept for the report, also without a `report:` section


class ReportConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    daily_at: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", description="HH:MM[:SS] in `timezone`")
    timezone: TimeZoneName = "UTC"
    channels: list[str] = Field(min_length=1)
    link: str | None = None
    catch_up: Duration = parse_duration("6h")
    keep: Duration = Field(
        default=DEFAULT_KEEP,
        description="how long the follower keeps its per-minute trends for the report (1h to 31d)",
    )

    @field_validator("link")
    @classmethod
    def _a_web_link(cls, value: str | None) -> str | None:
        # shown as a link in the email, Slack and the report: only a web page (a `javascript:` link would run)
        if value is not None and not re.fullmatch(r"https?://[^\s<>|\"']+", value):
            raise ValueError("the link must be an http:// or https:// URL (no spaces, quotes, <, > or |)")
        return value

    @field_validator("keep")
    @classmethod
    def _keep_in_range(cls, value: int) -> int:
        if not parse_duration("1h") <= value <= parse_duration("31d"):
            raise ValueError("keep the trends between 1h and 31d (a day's digest needs 24h of them)")
        return value

    def schedule(self) -> DailySchedule:
        hour, minute, second = (int(part) for part in (self.daily_at + ":00")[:8].split(":"))
        return DailySchedule(dt.time(hour, minute, second), ZoneInfo(self.timezone), self.catch_up)


@dataclass(frozen=True, slots=True)
class Occurrence:
    date: dt.date  # the local date the digest is for
    at: int  # when it was due, ns since the epoch (UTC)

    @property
    def id(self) -> str:
        """The outbox id: one digest per day, whoever tries to send it and however often."""
        return f"digest-{self.date.isoformat()}"


@dataclass(frozen=True, slots=True)
class DailySchedule:
    at: dt.time
    zone: ZoneInfo
    catch_up: int  # ns

    def latest(self, now: int) -> Occurrence:
        """The most recent occurrence at or before `now` (ns since the epoch)."""
        local = dt.datetime.fromtimestamp(now / 1e9, dt.UTC).astimezone(self.zone)
        day = local.date()
        if _due_at(day, self.at, self.zone) > now:
            day -= dt.timedelta(days=1)
        return Occurrence(day, _due_at(day, self.at, self.zone))

    def next_after(self, now: int) -> Occurrence:
        latest = self.latest(now)
        day = latest.date + dt.timedelta(days=1)
        return Occurrence(day, _due_at(day, self.at, self.zone))


def _due_at(day: dt.date, at: dt.time, zone: ZoneInfo) -> int:
    moment = dt.datetime.combine(day, at, tzinfo=zone)
    return int(moment.timestamp()) * 1_000_000_000
