"""Sources: where RawLines come from (files and stdin here; the Docker follower in docker.py)."""
