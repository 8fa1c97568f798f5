"""The one redactor and its secret catalogue (catalogue.yml, kept as data and tested like rules)."""

from logpipe.redact.catalogue import CatalogueEntry, CatalogueError, load_catalogue, luhn_valid
from logpipe.redact.redactor import DEFAULT_SENSITIVE_NAME_SUFFIXES, MASK, RedactionConfig, Redactor

__all__ = [
    "DEFAULT_SENSITIVE_NAME_SUFFIXES",
    "MASK",
    "CatalogueEntry",
    "CatalogueError",
    "RedactionConfig",
    "Redactor",
    "load_catalogue",
    "luhn_valid",
]
