"""Following Docker: a reader per followed name (reader.py), the events watcher (events.py), the Engine API's frames
(frames.py), the json-file log read directly (jsonfile.py, its C decoder _jsonfile.c), the readers' threads
(ownthread.py)."""

from logpipe.sources.docker.reader import *  # noqa: F403  (what the module of this name held)
