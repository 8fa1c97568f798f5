"""Sources: where RawLines and readings come from: saved logs and stdin (file.py), Docker (docker/), health probes and
resource readings (probes/)."""
