"""The secret catalogue (catalogue.yml, package data) as typed entries, and the checks an entry may ask for after
its pattern matched (Luhn for cards, mod 97 for IBANs...)."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import orjson

#: a confirmation: (the text, match start, match end) -> where the secret ends (at most the match's end), or None
Confirm = Callable[[bytes, int, int], "int | None"]


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    redacted: str


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    id: str
    title: str
    pattern: str
    replacement: str
    ignore_case: bool = False
    confirm: str | None = None
    default: bool = True  # False: opt-in (phones, IPs)
    trigger: str | None = None  # what hyperscan looks for, when not `pattern`
    extend_left: str | None = None  # a character class the secret may extend over, left of the trigger
    positive: tuple[Example, ...] = ()
    negative: tuple[str, ...] = ()


class CatalogueError(ValueError):
    """A catalogue entry that cannot be used: names the entry and the field."""


@functools.cache
def shipped_catalogue() -> tuple[CatalogueEntry, ...]:
    """The catalogue shipped in the package (read once per process). A service's light install has no YAML
    parser: it reads catalogue.json, the same document (written by `python -m logpipe.redact.catalogue`, and a
    test keeps the two equal)."""
    files = resources.files("logpipe.redact")
    try:
        import yaml  # noqa: F401  (the agent's install has it)
    except ImportError:
        return entries_of(orjson.loads(files.joinpath("catalogue.json").read_bytes()), "catalogue.json")
    return load_catalogue(files.joinpath("catalogue.yml").read_text(encoding="utf-8"))


def load_catalogue(text: str | None = None, source: str = "catalogue.yml") -> tuple[CatalogueEntry, ...]:
    """The entries of `text` (YAML), or of the catalogue shipped in the package."""
    if text is None:
        return shipped_catalogue()
    import yaml

    return entries_of(yaml.safe_load(text), source)


def entries_of(document: Any, source: str) -> tuple[CatalogueEntry, ...]:
    """The entries of a parsed catalogue document, each checked (errors name the entry and the field)."""
    raw_entries = document.get("entries") if isinstance(document, Mapping) else None
    if not isinstance(raw_entries, list):
        raise CatalogueError(f"{source}: expected a mapping with a list under `entries`")
    entries = [_entry(raw, index, source) for index, raw in enumerate(raw_entries)]
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise CatalogueError(f"{source}: entries: duplicate id {entry.id!r}")
        seen.add(entry.id)
    return tuple(entries)


_KEYS = {"id", "title", "pattern", "replacement", "ignore_case", "confirm", "default", "trigger", "extend_left"} | {
    "positive",
    "negative",
}


def _entry(raw: Any, index: int, source: str) -> CatalogueEntry:
    where = f"{source}: entries[{index}]"
    if not isinstance(raw, Mapping):
        raise CatalogueError(f"{where}: expected a mapping")
    unknown = set(raw) - _KEYS
    if unknown:
        raise CatalogueError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("id", "pattern", "replacement"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise CatalogueError(f"{where}.{key}: expected a non-empty string")
    confirm = raw.get("confirm")
    if confirm is not None and confirm not in CONFIRMATIONS:
        raise CatalogueError(f"{where}.confirm: {confirm!r} is not one of {sorted(CONFIRMATIONS)}")
    for key in ("pattern", "trigger", "extend_left"):
        if key not in raw:
            continue
        try:
            re.compile(str(raw[key]).encode())
        except re.error as error:
            raise CatalogueError(f"{where}.{key}: invalid regex: {error}") from None
    positive = tuple(Example(str(p["text"]), str(p["redacted"])) for p in raw.get("positive") or ())
    negative = tuple(str(n) for n in raw.get("negative") or ())
    if not positive or not negative:
        raise CatalogueError(f"{where}: needs positive and negative examples (an untested pattern is a bug)")
    return CatalogueEntry(
        id=raw["id"],
        title=str(raw.get("title", "")),
        pattern=raw["pattern"],
        replacement=raw["replacement"],
        ignore_case=bool(raw.get("ignore_case", False)),
        confirm=confirm,
        default=raw.get("default", True) not in (False, "off"),
        trigger=raw.get("trigger"),
        extend_left=raw.get("extend_left"),
        positive=positive,
        negative=negative,
    )


# --- confirmations ---------------------------------------------------------------------------------------------
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # a digit doubled, its digits summed (Luhn)


def luhn_valid(digits: str) -> bool:
    values = [ord(char) - 48 for char in reversed(digits)]
    return (sum(values[0::2]) + sum(_DOUBLED[value] for value in values[1::2])) % 10 == 0


def _prefixes_at_separators(found: bytes) -> list[int]:
    """Lengths of `found` to try, longest first: the whole, then cut before each space or dash (a card number
    followed by a CVV, an IBAN followed by a capitalised word)."""
    cuts = [i for i, byte in enumerate(found) if byte in b" -"]
    return [len(found), *reversed(cuts)]


def _part_of_a_decimal(data: bytes, start: int, end: int) -> bool:
    """`1.4242...` or `4242....5`: digits of a decimal number, not a card."""
    before = start >= 2 and data[start - 1 : start] == b"." and data[start - 2 : start - 1].isdigit()
    after = data[end : end + 1] == b"." and data[end + 1 : end + 2].isdigit()
    return before or after


def _card(data: bytes, start: int, end: int) -> int | None:
    found = data[start:end]
    for length in _prefixes_at_separators(found):
        digits = found[:length].translate(None, b" -").decode()
        if 13 <= len(digits) <= 19 and luhn_valid(digits) and not _part_of_a_decimal(data, start, start + length):
            return start + length
    return None


def _iban(data: bytes, start: int, end: int) -> int | None:
    found = data[start:end]
    for length in _prefixes_at_separators(found):
        compact = found[:length].replace(b" ", b"").decode()
        if not 15 <= len(compact) <= 34:
            continue
        rearranged = compact[4:] + compact[:4]
        if int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1:
            return start + length
    return None


def _secret_like(data: bytes, start: int, end: int) -> int | None:
    """After `secret ` / `password ` with no `=`: a value with both letters and digits, or a long mixed-case
    one, is taken for a secret; an ordinary word ("expired", "rotation") is not."""
    value = data[start:end].split()[-1]
    letters = any(chr(b).isalpha() for b in value)
    digits = any(chr(b).isdigit() for b in value)
    mixed = value.lower() != value and value.upper() != value
    if letters and (digits or (len(value) >= 20 and mixed)):
        return end
    return None


def _phone_digits(data: bytes, start: int, end: int) -> int | None:
    count = sum(1 for b in data[start:end] if 48 <= b <= 57)
    return end if 8 <= count <= 15 else None


def _ipv6(data: bytes, start: int, end: int) -> int | None:
    text = data[start:end].decode()
    if "::" not in text and text.count(":") < 7:
        return None
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return None
    return end


CONFIRMATIONS: dict[str, Confirm] = {
    "luhn": _card,
    "iban": _iban,
    "secret_like": _secret_like,
    "phone_digits": _phone_digits,
    "ipv6": _ipv6,
}


if __name__ == "__main__":  # write catalogue.json beside catalogue.yml (run after editing the YAML)
    import pathlib

    import yaml

    here = pathlib.Path(__file__).parent
    document = yaml.safe_load((here / "catalogue.yml").read_text(encoding="utf-8"))
    entries_of(document, "catalogue.yml")  # refuse to write a broken catalogue
    (here / "catalogue.json").write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
