"""Shared alerting state for several logpipe instances (a fleet): one interface (backend.py), two implementations
(local: this host only; redis: the fleet's Redis), and the sync that joins them to the engine and the incident book
once per flush tick (sync.py). Checkpoints and the outbox always stay local."""
