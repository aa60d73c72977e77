"""A real Ray cluster on this machine for tests/test_ray.py and benchmarks/bench_ray.py: a head and
worker nodes started with `ray start`, as on real machines, and stopped by their own pids. Plus
what both compare: the vectors of two builds, read through the store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np

from assistant.embedding import MODEL_DIM, MODEL_NAME
from assistant.index import reuse, snapshot
from devtools.ports import free_port

RAY = Path(sys.executable).with_name("ray")


def build_vectors(index_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """chunk id -> (chunk vector, sentence vectors) of the current build, L2-normalised (the
    store may keep them in a compact type)."""
    build = snapshot.Snapshot(index_dir, MODEL_NAME, MODEL_DIM, for_reuse=True)
    try:
        cache = reuse.vectors_of(build, [r[0] for r in reuse.file_records(build).values()])
    finally:
        build.close()

    def unit(x):
        x = np.asarray(x, dtype=np.float32).reshape(-1, MODEL_DIM)
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)

    return {cid: (unit(v)[0], unit(s)) for cid, (v, s) in cache.items()}


def min_cosines(a: dict, b: dict) -> tuple[float, float]:
    chunk = min(float(a[k][0] @ b[k][0]) for k in a)
    sent = min(float((a[k][1] * b[k][1]).sum(1).min()) for k in a if len(a[k][1]))
    return chunk, sent



def descendants(pid: int) -> list:
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def wait_gone(procs: list, seconds: float) -> list:
    """The processes still running after up to `seconds` (zombies count as gone)."""
    import psutil

    end = time.monotonic() + seconds
    while True:
        alive = []
        for p in procs:
            try:
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(p)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > end:
            return alive
        time.sleep(0.5)


class Cluster:
    """`ray start --head` and `nodes - 1` `ray start --address` worker nodes of `cpus` CPUs each,
    in the foreground (`--block`) so that they are ours to stop by pid. Token authentication on,
    as a real cluster should have it; drivers get the token through `env`."""

    def __init__(self, work: Path, nodes: int = 2, cpus: int = 1):
        self.cpus = cpus
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = dict(os.environ, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=uuid.uuid4().hex,
                        RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S="0", RAY_USAGE_STATS_ENABLED="0",
                        HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        # The nodes get the package as separate machines would: installed (here, the
        # virtualenv's) or shipped by the build, not from this checkout by PYTHONPATH. Drivers
        # run from the checkout's root, which puts it first on their own path.
        self.env.pop("PYTHONPATH", None)
        self.procs: list[subprocess.Popen] = []
        self.log = work / "ray-cluster.log"
        self._start("--head", f"--port={self.port}", "--include-dashboard=false")
        self._wait_nodes(1)
        for n in range(2, nodes + 1):
            self._start(f"--address={self.address}")
            self._wait_nodes(n)

    def _start(self, *args: str) -> None:
        with open(self.log, "ab") as log:
            self.procs.append(subprocess.Popen(
                [str(RAY), "start", "--block", f"--num-cpus={self.cpus}", "--disable-usage-stats",
                 *args],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd="/"))

    def status(self) -> str:
        out = subprocess.run([str(RAY), "status", f"--address={self.address}"], env=self.env,
                             capture_output=True, text=True, timeout=60)
        return out.stdout + out.stderr

    def _wait_nodes(self, n: int, seconds: float = 90) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.status().count(" node_") >= n:
                return
            if any(p.poll() is not None for p in self.procs):
                break
            time.sleep(1)
        raise RuntimeError(f"the Ray cluster did not come up: {self.log.read_text()[-3000:]}")

    def cpus_in_use(self) -> float:
        for line in self.status().splitlines():
            if line.strip().endswith(" CPU") and "/" in line:
                return float(line.split("/")[0])
        raise RuntimeError(f"no CPU line in `ray status`: {self.status()}")

    def stop(self) -> list:
        """Worker node first, then the head; returns the Ray processes still alive after."""
        left = []
        for proc in reversed(self.procs):
            kids = descendants(proc.pid)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
            left += wait_gone(kids, 30)
        for p in left:  # ours, by pid: never a test run that leaves Ray behind
            p.kill()
        return left



def eventually(check, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while not check():
        if time.monotonic() > end:
            return False
        time.sleep(1)
    return True


