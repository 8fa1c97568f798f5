"""One pass over a text for every catalogue entry at once: hyperscan reports where each pattern matches (leftmost
start, every end), then Python's `re` confirms each candidate at its start, left to right, and the secrets are
replaced. Work grows linearly with the text: hyperscan is an automaton (no backtracking), a candidate inside a
secret already replaced is never looked at again, and each confirmation is one anchored match of a pattern with
no nested repeats.

Why hyperscan rather than RE2 (bench/redact_engines.py, 1 MiB lines, on this shared 2-core machine): hyperscan's
scan of the whole catalogue takes 14-16 µs/KiB on random text and the complete redaction 16-24, where
google-re2 1.1 only finding the matches of the same patterns as one alternation (finditer: no confirmation, no
replacement) takes 86-242 µs/KiB on random text and base64. RE2 is ahead on lines made only of candidates
(`password=` repeated: 137-176 against 191-236 for the scan, which pays one Python callback per report; the
triggers keep those rare). hyperscan is also a dependency already (the rule prefilter), and an RE2 set says
only which patterns matched, not where.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from logpipe.redact.catalogue import Confirm

try:
    import hyperscan as _hyperscan

    hyperscan: Any = _hyperscan
except ImportError:  # a service's light install (or a platform with no wheel): the same catalogue, by Python's re
    hyperscan = None

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class CompiledEntry:
    id: str
    pattern: str
    ignore_case: bool
    replacement: str  # may name {groups} of the pattern, {last4} and {first4}
    confirm: Confirm | None = None
    whole: bool = False  # replace the whole match even when the pattern has secret groups
    trigger: str | None = None  # what hyperscan looks for instead of `pattern` (starting at or after it)
    extend_left: str | None = None  # with a trigger: the characters the secret may have before the trigger

    def regex(self) -> re.Pattern[bytes]:
        return re.compile(self.pattern.encode(), re.IGNORECASE if self.ignore_case else 0)


class PatternRefused(ValueError):
    """hyperscan cannot compile an entry's pattern with start-of-match reporting (names the entry)."""


def _collect(entry: int, start: int, end: int, flags: int, found: object) -> None:
    # one call per (start, end) hyperscan reports: keep the furthest end per (start, entry); key packs both
    cast(dict[int, int], found)[start * 256 + entry] = end


class Scanner:
    def __init__(self, entries: Sequence[CompiledEntry]) -> None:
        if len(entries) > 256:
            raise ValueError("at most 256 redaction patterns")
        self.entries = tuple(entries)
        self._regexes = [entry.regex() for entry in self.entries]
        self._secret_groups = [
            () if entry.whole else tuple(name for name in regex.groupindex if name.startswith("secret"))
            for entry, regex in zip(self.entries, self._regexes, strict=True)
        ]
        self._extend_left = [
            re.compile(b"(?:" + entry.extend_left.encode() + b"){0,64}$") if entry.extend_left else None
            for entry in self.entries
        ]
        self._replacements = [entry.replacement.encode() for entry in self.entries]
        self._templated = ["{" in entry.replacement for entry in self.entries]
        self._database = self._compile() if self.entries and hyperscan is not None else None
        # without hyperscan, each entry's own regex finds its candidates (slower; the same confirmations after)
        self._finders = (
            [re.compile((e.trigger or e.pattern).encode(), re.IGNORECASE if e.ignore_case else 0) for e in self.entries]
            if hyperscan is None
            else []
        )
        self._local = threading.local()  # a hyperscan scratch is per thread (sinks and loggers run in threads)

    def _compile(self) -> hyperscan.Database:
        expressions = [(entry.trigger or entry.pattern).encode() for entry in self.entries]
        flags = [self._flags(entry) for entry in self.entries]
        key = hashlib.sha256(repr((getattr(hyperscan, "__version__", ""), expressions, flags)).encode()).hexdigest()[
            :32
        ]
        database = _COMPILED.get(key)
        if database is None:
            database = _load_cached(key)
        if database is None:
            database = hyperscan.Database()
            try:
                database.compile(expressions=expressions, ids=list(range(len(expressions))), flags=flags)
            except hyperscan.error:
                raise self._refused() from None
            _store_cached(key, database)
        _COMPILED[key] = database
        return database

    def _refused(self) -> PatternRefused:
        for entry in self.entries:
            try:
                hyperscan.Database().compile(
                    expressions=[(entry.trigger or entry.pattern).encode()], flags=[self._flags(entry)]
                )
            except hyperscan.error as error:
                return PatternRefused(f"redaction pattern {entry.id!r}: hyperscan refuses it: {error}")
        return PatternRefused("hyperscan refuses the redaction patterns together")

    @staticmethod
    def _flags(entry: CompiledEntry) -> int:
        return int(hyperscan.HS_FLAG_SOM_LEFTMOST | (hyperscan.HS_FLAG_CASELESS if entry.ignore_case else 0))

    def _scratch(self) -> hyperscan.Scratch:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._database)
        return scratch

    def redact(self, data: bytes) -> bytes | None:
        """`data` with its secrets replaced, or None when it holds none."""
        if not data or (self._database is None and not self._finders):
            return None
        found: dict[int, int] = {}
        if self._database is not None:
            self._database.scan(data, match_event_handler=_collect, context=found, scratch=self._scratch())
        else:
            for index, finder in enumerate(self._finders):
                for match in finder.finditer(data):
                    found[match.start() * 256 + index] = match.end()
        if not found:
            return None
        spans = self._confirmed_spans(data, found)
        if not spans:
            return None
        return _replace(data, spans)

    def _confirmed_spans(self, data: bytes, found: dict[int, int]) -> list[tuple[int, int, bytes]]:
        spans: list[tuple[int, int, bytes]] = []
        covered = 0  # end of the furthest confirmed match: candidates wholly inside it are not looked at
        # per entry, the end of its last confirmed match: an entry's own candidates inside it are not looked at
        # either (`4242 4242 4242 4242 4242` is one card, not one per group). Another entry's candidate that
        # starts inside and reaches beyond is (`password: Bearer abc`: the pair's value stops at the space),
        # and since each entry's confirmed matches do not overlap, every entry costs at most one pass.
        covered_by = [0] * len(self.entries)
        for key in sorted(found):
            if found[key] <= covered:
                continue
            start, index = divmod(key, 256)
            if start < covered_by[index]:
                continue
            match = self._confirm_pattern(index, data, start, covered)
            if match is None:
                continue
            start, end = match.start(), match.end()
            confirm = self.entries[index].confirm
            if confirm is not None:
                confirmed = confirm(data, start, end)
                if confirmed is None:
                    continue
                if confirmed != end:  # a shorter secret (a card number before a CVV): the whole of it goes
                    spans.append((start, confirmed, self._replacement(index, data[start:confirmed], match)))
                    covered = max(covered, confirmed)
                    covered_by[index] = confirmed
                    continue
            groups = [g for g in self._secret_groups[index] if match.start(g) >= 0]
            replacement = self._replacement(index, data[start:end], match)
            if groups:
                spans.extend((match.start(g), match.end(g), replacement) for g in groups)
            else:
                spans.append((start, end, replacement))
            covered = max(covered, end)
            covered_by[index] = end
        return spans

    def _confirm_pattern(self, index: int, data: bytes, start: int, covered: int) -> re.Match[bytes] | None:
        left = self._extend_left[index]
        if left is None:
            match = self._regexes[index].match(data, start)
            return match if match is not None and match.end() > start else None
        # walk back over the characters the secret may begin with (a bounded, anchored match), then find it
        lookback = left.search(data, max(covered, start - 64), start)
        begin = lookback.start() if lookback is not None else start
        match = self._regexes[index].search(data, begin, len(data))
        return match if match is not None and match.start() <= start < match.end() else None

    def _replacement(self, index: int, secret: bytes, match: re.Match[bytes]) -> bytes:
        if not self._templated[index]:
            return self._replacements[index]
        values = {name: (value or b"").decode("utf-8", "replace") for name, value in match.groupdict().items()}
        alphanumeric = secret.translate(None, _NOT_ALPHANUMERIC).decode()
        values.update(last4=secret.translate(None, _NOT_DIGIT)[-4:].decode(), first4=alphanumeric[:4])
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), self.entries[index].replacement).encode()


_NOT_DIGIT = bytes(b for b in range(256) if not 48 <= b <= 57)
_NOT_ALPHANUMERIC = bytes(b for b in range(256) if not (48 <= b <= 57 or 65 <= b <= 90 or 97 <= b <= 122))

# Compiling the catalogue takes hyperscan about half a second: once per process, and the result kept on disk
_COMPILED: dict[str, hyperscan.Database] = {}


def _cache_path(key: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "logpipe" / f"redact-{key}.hsdb"


def _load_cached(key: str) -> hyperscan.Database | None:
    try:
        return hyperscan.loadb(_cache_path(key).read_bytes(), hyperscan.HS_MODE_BLOCK)
    except (OSError, hyperscan.error):
        return None


def _store_cached(key: str, database: hyperscan.Database) -> None:
    path = _cache_path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(hyperscan.dumpb(database))
        partial.replace(path)
    except OSError:
        pass  # a read-only home: compile again next time


def _replace(data: bytes, spans: list[tuple[int, int, bytes]]) -> bytes:
    out: list[bytes] = []
    cursor = 0
    for start, end, replacement in sorted(spans, key=lambda span: span[0]):
        if end <= cursor:
            continue  # inside what is already replaced
        out.append(data[cursor : max(start, cursor)])
        out.append(replacement)
        cursor = end
    out.append(data[cursor:])
    return b"".join(out)
