"""The secret catalogue is tested like the rules: every entry's positive examples come out exactly as written,
every negative example comes out unchanged, with every entry turned on (opt-in ones included)."""

from __future__ import annotations

import pytest

from logpipe.redact import CatalogueError, RedactionConfig, Redactor, load_catalogue

CATALOGUE = load_catalogue()
OPT_IN = tuple(entry.id for entry in CATALOGUE if not entry.default)
everything = Redactor(RedactionConfig(enable=OPT_IN))
default = Redactor()


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda entry: entry.id)
def test_catalogue_entry_redacts_its_positives_and_keeps_its_negatives(entry: object) -> None:
    from logpipe.redact import CatalogueEntry

    assert isinstance(entry, CatalogueEntry)
    for example in entry.positive:
        assert everything.text(example.text) == example.redacted, example.text
    for text in entry.negative:
        assert everything.text(text) == text
        assert default.text(text) == text


def test_catalogue_covers_the_stack() -> None:
    ids = {entry.id for entry in CATALOGUE}
    assert {
        "private-key",
        "url-userinfo",
        "slack-webhook-url",
        "authorization-header",
        "bearer-or-basic-credentials",
        "cookie",
        "jwt",
        "aws-access-key-id",
        "aws-secret-access-key",
        "github-token",
        "gitlab-token",
        "slack-token",
        "stripe-key",
        "razorpay-key",
        "sendgrid-key",
        "twilio-key",
        "secret-pair",
        "secret-word",
        "card-number",
        "iban",
        "email",
        "phone",
        "ipv4",
    } <= ids


def test_phones_and_ips_are_opt_in() -> None:
    line = "client 203.0.113.42 called +91 98765 43210"
    assert default.text(line) == line
    assert Redactor(RedactionConfig(enable=("ipv4",))).text(line) == "client [IP] called +91 98765 43210"
    assert everything.text(line) == "client [IP] called [PHONE]"


def test_an_entry_without_examples_does_not_load() -> None:
    text = "entries:\n  - {id: x, pattern: 'abc', replacement: '[X]', positive: [], negative: ['a']}\n"
    with pytest.raises(CatalogueError, match=r"entries\[0\]: needs positive and negative examples"):
        load_catalogue(text, "mine.yml")


def test_a_bad_entry_is_named_with_its_field() -> None:
    text = "entries:\n  - {id: x, pattern: '(', replacement: '[X]'}\n"
    with pytest.raises(CatalogueError, match=r"mine.yml: entries\[0\].pattern: invalid regex"):
        load_catalogue(text, "mine.yml")


def test_unknown_entry_names_in_the_config_are_refused() -> None:
    with pytest.raises(ValueError, match="no redaction catalogue entry"):
        Redactor(RedactionConfig(enable=("phones",)))


def test_without_hyperscan_the_same_catalogue_redacts_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """A service's light install has no hyperscan: each entry's own regex finds the candidates instead."""
    from logpipe.redact import scanner

    monkeypatch.setattr(scanner, "hyperscan", None)
    portable = Redactor(RedactionConfig(enable=OPT_IN))
    for entry in CATALOGUE:
        for example in entry.positive:
            assert portable.text(example.text) == example.redacted, (entry.id, example.text)
        for text in entry.negative:
            assert portable.text(text) == text, (entry.id, text)


def test_the_json_copy_a_service_reads_is_the_catalogue() -> None:
    """`python -m logpipe.redact.catalogue` writes catalogue.json after the YAML is edited; this says when not."""
    from importlib import resources

    import orjson
    import yaml

    files = resources.files("logpipe.redact")
    assert orjson.loads(files.joinpath("catalogue.json").read_bytes()) == yaml.safe_load(
        files.joinpath("catalogue.yml").read_text(encoding="utf-8")
    ), "run: python -m logpipe.redact.catalogue"
