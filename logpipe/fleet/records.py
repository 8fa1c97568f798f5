"""What the fleet reads back from Redis, checked at the boundary. Redis is shared: an older logpipe's key format,
another tool on the same prefix, or a server that answers `+OK` to everything can put anything there. Each record
is parsed into what logpipe uses or refused (None, counted by the caller, never trusted); an answer that is not
the shape of what was asked is `BadAnswer`, which the backend reports as the state backend being unusable."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import orjson

from logpipe.fleet.backend import BucketValues, ClaimAnswer, Group
from logpipe.incidents.silences import Silence
from logpipe.times import in_range

MAX_TEXT = 4096  # characters of a name, value or reason taken from Redis; a longer one is not logpipe's
_INCIDENT_ID = re.compile(r"[0-9a-f]{32}")


class BadAnswer(Exception):
    """Redis (or what answers on its port) answered something other than what the command returns."""


def mapping(answer: object) -> dict[str, str]:
    """An HGETALL's answer: field -> value, both text."""
    if not isinstance(answer, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in answer.items()):
        raise BadAnswer(f"a hash was read, and {_shown(answer)} came back")
    return dict(answer)


def text_or_none(answer: object) -> str | None:
    """A GET's answer."""
    if answer is not None and not isinstance(answer, str):
        raise BadAnswer(f"a string was read, and {_shown(answer)} came back")
    return answer


def incident_id(answer: object) -> str | None:
    """The open incident's id kept under `o:{rule}:{group}`; None when it is no id logpipe made."""
    return answer if isinstance(answer, str) and _INCIDENT_ID.fullmatch(answer) else None


def claim_answer(answer: object) -> ClaimAnswer:
    """The claim script's answer: [won, owner, fleet total, count, number]."""
    if not (isinstance(answer, list) and len(answer) == 5):
        raise BadAnswer(f"the claim script's answer was {_shown(answer)}")
    won, owner, total, count, number = answer
    if not (
        won in (0, 1)
        and isinstance(owner, str)
        and all(isinstance(n, int) and 0 <= n < 2**53 for n in (total, count, number))
    ):
        raise BadAnswer(f"the claim script's answer was {_shown(answer)}")
    return ClaimAnswer(bool(won), owner, total, count, shared=True, number=number)


def group(text: str) -> Group | None:
    """A group as `g:{rule}` indexes it: a JSON list of [name, value] pairs of text."""
    try:
        pairs = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(pairs, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(_short_text(part) for part in pair) for pair in pairs
    ):
        return None
    return tuple((str(name), str(value)) for name, value in pairs)


def bucket(name: str, text: str) -> tuple[int, str, BucketValues] | None:
    """One field of a window hash: `{bucket}|{instance}` -> comma-separated finite numbers (two for a ratio's
    hits and total, four for an aggregate's count, sum, min and max)."""
    index_text, bar, owner = name.partition("|")
    if not bar or not owner or not index_text.lstrip("-").isdigit() or len(index_text) > 18:
        return None
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        return None
    if len(values) not in (2, 4) or not all(math.isfinite(value) for value in values) or values[0] < 0:
        return None
    return int(index_text), owner, values


def silence(text: str) -> Silence | None:
    """A silence another instance published."""
    try:
        record = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(record, dict):
        return None
    matchers = record.get("matchers")
    starts, ends = record.get("starts"), record.get("ends")
    if not (
        all(_short_text(record.get(key)) for key in ("id", "rule", "reason"))
        and _short_text(record.get("created_by", ""))
        and isinstance(matchers, list)
        and all(isinstance(pair, list) and len(pair) == 2 and all(_short_text(p) for p in pair) for pair in matchers)
        and isinstance(starts, int)
        and isinstance(ends, int)
        and in_range(starts)
        and in_range(ends)
    ):
        return None
    pairs = tuple((str(key), str(value)) for key, value in matchers)
    return Silence(record["id"], record["rule"], pairs, starts, ends, record["reason"], record.get("created_by", ""))


def member(text: str) -> dict[str, Any] | None:
    """An instance's heartbeat: host, the time it was sent, its read lag, the containers it follows."""
    try:
        beat = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(beat, dict):
        return None
    at, lag, containers = beat.get("at"), beat.get("lag"), beat.get("containers") or []
    if not (
        _short_text(beat.get("host", ""))
        and isinstance(at, (int, float))
        and _number(at)
        and (lag is None or _number(lag))
        and isinstance(containers, list)
        and all(_short_text(name) for name in containers)
    ):
        return None
    return {"host": beat.get("host", ""), "at": float(at), "lag": lag, "containers": list(containers)}


def _short_text(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _shown(answer: object) -> str:
    text = repr(answer)
    return text if len(text) <= 80 else text[:77] + "..."
