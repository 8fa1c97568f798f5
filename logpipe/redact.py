"""The one redactor: every path where data leaves the host (Sentry, notifications, JSON output) goes through it.

Two mechanisms: values under a sensitive field name are replaced whole (`password`, `accessToken`,
`headers.authorization`, `stripe-signature`...); every other string is scanned once by a single combined
pattern for secrets that announce themselves (Bearer tokens, JWTs, Stripe/Razorpay keys, URL credentials,
`password=...` pairs, card numbers that pass the Luhn check, emails).

It runs per forwarded event, not per line read, so clarity beats the last microsecond here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from logpipe.event import Event

MASK = "[REDACTED]"

# A field is sensitive when its name, lower-cased without "-" and "_", ends with one of these:
# "accessToken", "refresh_token", "x-razorpay-signature", "stripeSecretKey" go; "tokenCount" stays.
DEFAULT_SENSITIVE_NAME_SUFFIXES: tuple[str, ...] = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "secretkey",
    "token",
    "apikey",
    "accesskey",
    "privatekey",
    "authorization",
    "cookie",
    "sessionid",
    "signature",
    "cvv",
    "cvc",
    "cardnumber",
    "creditcard",
    "dsn",
)

_PATTERNS = {
    # URL userinfo (postgres://user:pass@host, Sentry DSN keys): keep scheme and host
    "url_credentials": r"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,20}://[^\s/@:\"']+(?::[^\s/@\"']*)?@",
    # Authorization headers written as text: keep the header name and the scheme
    "header": r"(?i:\b(?:proxy-)?authorization)[\"']?\s*[:=]\s*[\"']?(?i:(?:bearer|basic|token)\s+)?"
    r"[^\s\"',;}]+",
    "bearer": r"(?i:\b(?:bearer|basic|token))\s+[A-Za-z0-9\-._~+/]{8,}=*",
    "jwt": r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}",
    "stripe_key": r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}|\bwhsec_[A-Za-z0-9+/=]{8,}",
    "razorpay_key": r"\brzp_(?:live|test)_[A-Za-z0-9]{8,}",
    "card": r"(?<![\w.])(?:\d[ -]?){12,18}\d(?![\w.])",
    "email": r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b",
}
_KEEP_NAME = re.compile(r"^([^:=]*[:=]\s*[\"']?)")


def _secret_pair_pattern(suffixes: tuple[str, ...]) -> str:
    """`password=hunter2`, `x-razorpay-signature: abc`, `"client_secret": "..."` in free text, for the same
    names that make a field sensitive (a separator may stand between any two letters: api_key, api-key)."""
    names = "|".join("[-_]?".join(re.escape(char) for char in suffix) for suffix in suffixes)
    return rf"(?i:\b[\w.\-]*(?:{names}))[\"']?\s*[:=]\s*[\"']?[^\s\"',;&}}]+"


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


@dataclass(frozen=True, slots=True)
class RedactionConfig:
    emails: Literal["mask", "remove", "keep"] = "mask"  # mask: j***@example.com
    sensitive_name_suffixes: tuple[str, ...] = DEFAULT_SENSITIVE_NAME_SUFFIXES
    extra_patterns: tuple[str, ...] = ()  # more regexes whose whole match is replaced by MASK
    disabled: tuple[str, ...] = ()  # names of built-in patterns to turn off (keys of _PATTERNS)


class Redactor:
    def __init__(self, config: RedactionConfig | None = None) -> None:
        self.config = config or RedactionConfig()
        patterns = {name: p for name, p in _PATTERNS.items() if name not in self.config.disabled}
        if "secret_pair" not in self.config.disabled:
            patterns["secret_pair"] = _secret_pair_pattern(self.config.sensitive_name_suffixes)
        if self.config.emails == "keep":
            patterns.pop("email", None)
        for index, extra in enumerate(self.config.extra_patterns):
            patterns[f"extra{index}"] = extra
        self._pattern = re.compile("|".join(f"(?P<{name}>{p})" for name, p in patterns.items()))
        self._suffixes = tuple(s.replace("-", "").replace("_", "").lower() for s in self.config.sensitive_name_suffixes)
        self._name_cache: dict[str, bool] = {}

    def is_sensitive_name(self, name: str) -> bool:
        known = self._name_cache.get(name)
        if known is None:
            normalized = name.replace("-", "").replace("_", "").lower()
            known = normalized.endswith(self._suffixes)
            if len(self._name_cache) < 10_000:
                self._name_cache[name] = known
        return known

    def text(self, text: str) -> str:
        if not text:
            return text
        return self._pattern.sub(self._replace, text)

    def value(self, value: Any) -> Any:
        """A redacted copy of a JSON-like value; mappings with sensitive keys lose those values."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return self.mapping(value)
        if isinstance(value, (list, tuple)):
            return [self.value(item) for item in value]
        return value

    def mapping(self, mapping: Mapping[str, Any]) -> dict[str, Any]:
        return {
            key: MASK if value is not None and self.is_sensitive_name(str(key)) else self.value(value)
            for key, value in mapping.items()
        }

    def event(self, event: Event) -> Event:
        return event._replace(
            message=self.text(event.message),
            raw=self._raw(event),
            fields=self.mapping(event.fields),
        )

    def _raw(self, event: Event) -> str:
        if event.parser == "json" and event.lines == 1:
            # the raw line holds what the fields hold: redact it by structure, as exactly as the fields
            try:
                return orjson.dumps(self.value(orjson.loads(event.raw))).decode()
            except orjson.JSONDecodeError:
                pass
        return self.text(event.raw)

    def _replace(self, match: re.Match[str]) -> str:
        kind, found = match.lastgroup, match.group()
        if kind == "card":
            digits = re.sub(r"[ -]", "", found)
            # issuer ranges start 2-6 (Mastercard 2-series, Amex/Diners 3, Visa 4, Mastercard 5, Discover 6);
            # epoch-ms timestamps and most order ids start with 1 or fail the checksum and survive
            if 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_valid(digits):
                return f"[CARD ****{digits[-4:]}]"
            return found
        if kind == "email":
            if self.config.emails == "remove":
                return "[EMAIL]"
            local, _, domain = found.partition("@")
            return f"{local[:1]}***@{domain}"
        if kind == "url_credentials":
            scheme, _, _ = found.partition("://")
            return f"{scheme}://{MASK}@"
        if kind in ("header", "secret_pair"):
            name = _KEEP_NAME.match(found)
            return (name.group(1) if name else "") + MASK
        if kind == "bearer":
            return found.split(None, 1)[0] + " " + MASK
        return MASK
