"""Incidents: what people are told (the incident book, notifications, silences). Import the modules directly:
logpipe.incidents.book (heavy: the engine), .notification and .silences (light)."""
