"""The one redactor: every value that leaves the process (alert payloads in the outbox, notifications, Sentry
events and breadcrumbs, JSON output, `--events-out`, logpipe's own log) goes through `Redactor.payload` last.

Two mechanisms:
- values under a sensitive field name are replaced whole (`password`, `accessToken`, `headers.authorization`,
  `stripe-signature`...; `tokenCount` survives);
- every string, every field name and every integer long enough to be a card number is scanned for the secrets
  of the catalogue (catalogue.yml: cloud and SaaS keys, tokens, URL credentials, card numbers, IBANs, emails...)
  in one linear-time pass (scanner.py).
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from logpipe.event import Event
from logpipe.redact.catalogue import CONFIRMATIONS, CatalogueEntry, load_catalogue
from logpipe.redact.scanner import CompiledEntry, Scanner

MASK = "[REDACTED]"

# A field is sensitive when its name, lower-cased without "-" and "_", ends with one of these:
# "accessToken", "refresh_token", "x-razorpay-signature", "stripeSecretKey" go; "tokenCount" stays.
DEFAULT_SENSITIVE_NAME_SUFFIXES: tuple[str, ...] = (
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "secretkey",
    "token",
    "apikey",
    "accesskey",
    "privatekey",
    "privatekeyid",
    "authorization",
    "cookie",
    "sessionid",
    "signature",
    "credentials",
    "cvv",
    "cvc",
    "cardnumber",
    "creditcard",
    "iban",
    "dsn",
)

# values kept as they are: they carry no text of their own (and Sentry's serializer wants datetimes as such)
_OPAQUE = (bool, float, type(None), dt.datetime, dt.date, dt.time, dt.timedelta, decimal.Decimal, uuid.UUID)
_CARD_DIGITS = range(13, 20)
_SHORT = 48  # strings up to this long are cached with their redacted form
_CACHE_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class RedactionConfig:
    emails: Literal["mask", "remove", "keep"] = "mask"  # mask: j***@example.com
    enable: tuple[str, ...] = ()  # opt-in catalogue entries to turn on: "phone", "ipv4", "ipv6"
    disabled: tuple[str, ...] = ()  # catalogue entries to turn off (ids)
    sensitive_name_suffixes: tuple[str, ...] = DEFAULT_SENSITIVE_NAME_SUFFIXES
    extra_patterns: tuple[str, ...] = ()  # more regexes whose whole match is replaced by MASK


def compile_entries(
    config: RedactionConfig, catalogue: tuple[CatalogueEntry, ...] | None = None
) -> list[CompiledEntry]:
    """The catalogue entries this configuration turns on, in catalogue order, then the extra patterns."""
    entries = load_catalogue() if catalogue is None else catalogue
    known = {entry.id for entry in entries}
    unknown = (set(config.enable) | set(config.disabled)) - known
    if unknown:
        raise ValueError(f"no redaction catalogue entry {sorted(unknown)} (known: {sorted(known)})")
    compiled: list[CompiledEntry] = []
    for entry in entries:
        on = (entry.default or entry.id in config.enable) and entry.id not in config.disabled
        if entry.id == "email" and config.emails == "keep":
            on = False
        if not on:
            continue
        remove_email = entry.id == "email" and config.emails == "remove"
        compiled.append(
            CompiledEntry(
                id=entry.id,
                pattern=entry.pattern,
                ignore_case=entry.ignore_case,
                replacement="[EMAIL]" if remove_email else entry.replacement,
                confirm=CONFIRMATIONS[entry.confirm] if entry.confirm else None,
                whole=remove_email,
                trigger=entry.trigger,
                extend_left=entry.extend_left,
            )
        )
    for index, pattern in enumerate(config.extra_patterns):
        compiled.append(CompiledEntry(id=f"extra{index}", pattern=pattern, ignore_case=False, replacement=MASK))
    return compiled


class Redactor:
    def __init__(self, config: RedactionConfig | None = None, catalogue: tuple[CatalogueEntry, ...] | None = None):
        self.config = config or RedactionConfig()
        self.scanner = Scanner(compile_entries(self.config, catalogue))
        self._suffixes = tuple(s.replace("-", "").replace("_", "").lower() for s in self.config.sensitive_name_suffixes)
        self._name_cache: dict[str, bool] = {}
        # field names and short values (levels, loggers, origins, parsers) repeat from event to event: their
        # redacted forms are kept, bounded, so a typical event costs a few scans rather than dozens
        self._key_cache: dict[str, tuple[str, bool]] = {}
        self._short_cache: dict[str, str] = {}

    def is_sensitive_name(self, name: str) -> bool:
        known = self._name_cache.get(name)
        if known is None:
            normalized = name.replace("-", "").replace("_", "").lower()
            known = normalized.endswith(self._suffixes)
            if len(self._name_cache) < 10_000:
                self._name_cache[name] = known
        return known

    def text(self, text: str) -> str:
        """The text with every catalogued secret replaced."""
        if not text:
            return text
        data = text.encode("utf-8", "surrogatepass")
        redacted = self.scanner.redact(data)
        return text if redacted is None else redacted.decode("utf-8", "surrogatepass")

    def _key(self, name: str) -> tuple[str, bool]:
        """A field name as shown (a secret used as a name goes too), and whether its value is sensitive."""
        known = self._key_cache.get(name)
        if known is None:
            known = (self.text(name), self.is_sensitive_name(name))
            if len(self._key_cache) >= _CACHE_LIMIT:
                self._key_cache.clear()
            self._key_cache[name] = known
        return known

    def payload(self, value: Any) -> Any:
        """A redacted copy of a JSON-like value, to apply to whatever is about to leave the process: mapping keys
        and values, list items, strings (a string holding a JSON document is redacted by its structure), integers
        that are card numbers; anything else becomes its redacted text. Sensitive names lose their values."""
        kind = type(value)
        if kind is str:
            return self._string(value)
        if kind is int:
            return self._integer(value)
        if kind is dict or isinstance(value, Mapping):
            return self._mapping(value)
        if isinstance(value, (list, tuple, set, frozenset)):
            return [self.payload(item) for item in value]
        if isinstance(value, int) and not isinstance(value, bool):
            return self._integer(value)
        if isinstance(value, _OPAQUE):
            return value
        if isinstance(value, bytes):
            return self.text(value.decode("utf-8", "replace"))
        return self.text(str(value))

    def _mapping(self, mapping: Mapping[Any, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in mapping.items():
            shown, sensitive = self._key(key if isinstance(key, str) else str(key))
            if shown in out:  # two names redacted alike: keep both values
                shown = f"{shown}#{sum(1 for k in out if k.startswith(shown))}"
            out[shown] = MASK if value is not None and sensitive else self.payload(value)
        return out

    def _string(self, text: str) -> str:
        if len(text) <= _SHORT and text[:1] not in ("{", "["):
            known = self._short_cache.get(text)
            if known is None:
                known = self.text(text)
                if len(self._short_cache) >= _CACHE_LIMIT:
                    self._short_cache.clear()
                self._short_cache[text] = known
            return known
        head = text[:1]
        if (head == "{" and text.endswith("}")) or (head == "[" and text.endswith("]")):
            try:
                document = orjson.loads(text)
            except orjson.JSONDecodeError:
                pass
            else:  # a JSON document (an event's raw line): its keys are names, its numbers are numbers
                redacted = self.payload(document)
                return text if redacted == document else orjson.dumps(redacted).decode()
        return self.text(text)

    def _integer(self, number: int) -> int | str:
        if abs(number) < 10**12:  # fewer than 13 digits: never a card number (the common case, one compare)
            return number
        text = str(number)
        if len(text) not in _CARD_DIGITS:
            return number
        redacted = self.text(text)
        return number if redacted == text else redacted

    # --- the shapes callers have ----------------------------------------------------------------------------
    def value(self, value: Any) -> Any:
        return self.payload(value)

    def mapping(self, mapping: Mapping[str, Any]) -> dict[str, Any]:
        return self._mapping(mapping)

    def event(self, event: Event) -> Event:
        """The event with its text, logger, fields and raw line redacted (for code that keeps Event values)."""
        return event._replace(
            message=self.text(event.message),
            logger=self.text(event.logger),
            raw=self._string(event.raw),
            fields=self._mapping(event.fields),
        )

    def event_json(self, event: Event) -> bytes:
        """The event as one JSON line, its final dict redacted (parse output, --events-out)."""
        return orjson.dumps(self.payload(event.to_dict()))
