"""A small Python worker as a ClipForge service writes one: it logs through `logpipe.logconfig` (structlog, JSON
lines), queues render jobs in Redis (redis-py) and records them in Postgres (psycopg). When either is down it logs
the client's exception; a job that fails otherwise is logged as an unhandled exception. It also prints one legacy
line with a secret in it, which only logpipe's own redactor can catch. Runs until SIGTERM.

Environment: REDIS_URL, DATABASE_URL (its password is a secret), JOB_INTERVAL (seconds, default 0.25).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

import psycopg
import redis
import structlog

from logpipe.logconfig import configure_logging

stopping = threading.Event()  # set by SIGTERM (docker stop): the current job ends, then the worker


def stop(signum: int, frame: FrameType | None) -> None:
    stopping.set()


def render(queue: redis.Redis, database_url: str, job: int) -> None:
    queue.lpush("renders", f"clp_{job}")
    with psycopg.connect(database_url, connect_timeout=2) as connection:
        connection.execute("SELECT %s::int", (job,))
    if job % 7 == 3:  # a bug in the worker itself, not an outage
        raise KeyError("renditions")


def main() -> None:
    signal.signal(signal.SIGTERM, stop)
    configure_logging("clip-worker", version="1.4.2", json=True)
    log = structlog.get_logger("render")
    database_url = os.environ["DATABASE_URL"]
    queue = redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=1, socket_timeout=1)
    interval = float(os.environ.get("JOB_INTERVAL", "0.25"))
    log.info("worker started", database_url=database_url)  # configure_logging's redactor hides the password
    print(f"legacy debug: connecting with {database_url}", flush=True)  # not through structlog: logpipe redacts it
    job = 0
    while not stopping.is_set():
        job += 1
        structlog.contextvars.bind_contextvars(job_id=f"job_{job}", user_id="usr_7")
        try:
            render(queue, database_url, job)
            log.info("clip rendered", clip_id=f"clp_{job}")
        except redis.exceptions.ConnectionError:
            log.exception("render queue unreachable")
        except psycopg.OperationalError:
            log.exception("database unreachable")
        except Exception:
            log.exception("job failed")
        sys.stdout.flush()
        stopping.wait(interval)
    log.info("worker stopped")


if __name__ == "__main__":
    main()
