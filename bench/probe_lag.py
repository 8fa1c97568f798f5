"""How far behind `logpipe follow` reads a container's log while its HTTP probes pass, hang past their timeout and
crawl just under it: the read lag /metrics shows (logpipe_read_lag_seconds, refreshed every half second by the
follower's loop), sampled every quarter second in each phase. A loop held up by a check would show lags up to the
probes' 1.4 s timeout after each hold. Needs a Docker daemon with busybox:local (tests/docker/docker-up.sh).

    python bench/probe_lag.py [--seconds 10]

tests/docker/probes/test_probes_follow.py checks that the lines keep being read, every one once; this prints the
figure that test used to assert (a median under a second), next to the machine's load.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import docker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: its tests' health server
from tests.healthserver import HealthState, health_server

PHASES = {"passing": 0.0, "hung (3 s, timeout 1.4 s)": 3.0, "crawling (1.15 s)": 1.15}  # seconds before answering


def config(base: str, state: Path) -> str:
    return (
        f"state_dir: {state}\nresources: {{containers: false, disk: false}}\nprobes:\n"
        f'  - {{name: api, url: "{base}/health", interval: 1500ms, timeout: 1400ms}}\n'
        f'  - {{name: db, url: "{base}/health/db", interval: 1500ms, timeout: 1400ms, expect_status: [200, 503]}}\n'
    )


def lag(port: int, container: str) -> float | None:
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(f'logpipe_read_lag_seconds{{container="{container}"}} '):
            return float(line.rsplit(" ", 1)[1])
    return None


def sample(port: int, container: str, seconds: float) -> list[float]:
    samples, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = lag(port, container)
        if value is not None:
            samples.append(value)
        time.sleep(0.25)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10, help="sampled in each phase")
    args = parser.parse_args()
    print(f"{platform.node()}: {os.cpu_count()} cores, load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    client = docker.from_env()
    script = 'i=0; while true; do echo "line $i"; i=$((i+1)); usleep 20000; done'  # ~50 lines/s
    box = client.containers.run("busybox:local", ["sh", "-c", script], detach=True, network_mode="none")
    state = HealthState()
    port = 0
    with tempfile.TemporaryDirectory() as scratch, health_server(state) as base:
        path = Path(scratch) / "logpipe.yml"
        path.write_text(config(base, Path(scratch) / "state"))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        command = [sys.executable, "-m", "logpipe", "follow", box.name, "--config", str(path), "--no-view"]
        command += ["--since", "now", "--format", "jsonl", "--metrics-address", f"127.0.0.1:{port}"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while lag(port, box.name) is None:  # up and reading
                if process.poll() is not None:
                    raise SystemExit(f"logpipe exited with code {process.returncode}")
                time.sleep(0.2)
            for phase, delay in PHASES.items():
                state.delay = delay
                samples = sample(port, box.name, args.seconds)
                print(
                    f"read lag while the probes are {phase}: median {statistics.median(samples):.2f} s, "
                    f"max {max(samples):.2f} s ({len(samples)} samples)"
                )
        finally:
            process.terminate()
            process.wait(timeout=30)
            box.remove(force=True)


if __name__ == "__main__":
    main()
