"""Running the agent beside ClipForge: `logpipe doctor`'s checks (doctor.py) and `logpipe init`'s starter files
(scaffold.py)."""
