"""The local state store (SQLite in the state directory): store.py (the one connection and its parts), outbox.py
(notifications awaiting delivery), progress.py (checkpoints, committed output lengths, incidents), records.py
(silences, the digest's state), directory.py (the directory's files: private modes, the one-process lock, what
each SQLite failure means)."""

from logpipe.state.directory import STATE_FILE
from logpipe.state.outbox import Delivery, OutboxFull
from logpipe.state.progress import Checkpoint
from logpipe.state.store import StateStore

__all__ = ["STATE_FILE", "Checkpoint", "Delivery", "OutboxFull", "StateStore"]
