"""`assistant build --ray`: the build embedded on a real Ray cluster (a head and one worker node
started here with `ray start`, each with one CPU) writes the same build as a local one, a build
killed mid-embedding leaves the current index serving, and no Ray process outlives its build."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from assistant import store
from assistant.config import Settings
from assistant.embedding import MODEL_DIM, MODEL_NAME

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "corpus" / "mexico-us-cross-border-crime-cooperation.txt"
QUESTION = "Who will lead the coordinated efforts?"

RAY = Path(sys.executable).with_name("ray")
needs_ray = pytest.mark.skipif(not RAY.exists(), reason="the [ray] extra is not installed")


def write_corpus(corpus: Path, n: int, start: int = 0) -> None:
    """The seed article and `n` made-up ones of a few sections each: enough chunks (> 128, the
    rows of one actor call) that both workers of the cluster get work."""
    corpus.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED, corpus / SEED.name)
    crops = ["barley", "rye", "flax", "hops", "oats", "kale"]
    for i in range(start, start + n):
        crop, port = crops[i % len(crops)], f"Ostrava{i}"
        body = " ".join(f"In {1800 + 7 * i + k} the harvest of {crop} at {port} reached "
                        f"{120 + 13 * k + i} tonnes, and the council met {k + 2} times about it."
                        for k in range(9))
        (corpus / f"port-{i:03d}.md").write_text(
            f"# The river port of {port}\n\n{port} ships {crop} down the river to the coast.\n\n"
            f"## Trade\n\n{body}\n\n## Harbour\n\nThe harbour of {port} has {3 + i % 5} quays "
            f"and a crane built in {1900 + i}. Barges wait there for the spring floods.\n",
            encoding="utf-8")


def build_vectors(index_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """chunk id -> (chunk vector, sentence vectors) of the current build, L2-normalised (the
    store may keep them in a compact type)."""
    build = store.Build(index_dir, MODEL_NAME, MODEL_DIM, for_reuse=True)
    try:
        cache = build.reuse_cache()[1]
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> list:
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _wait_gone(procs: list, seconds: float) -> list:
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
    """`ray start --head` and one `ray start --address` worker node, each with one CPU, in
    foreground (`--block`) so that they are ours to stop by pid. Token authentication on, as a
    real cluster should have it; the drivers get the token through the environment."""

    def __init__(self, work: Path):
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = dict(os.environ, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=uuid.uuid4().hex,
                        RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S="0", RAY_USAGE_STATS_ENABLED="0",
                        HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        self.procs: list[subprocess.Popen] = []
        self.log = work / "ray-cluster.log"
        self._start("--head", f"--port={self.port}", "--include-dashboard=false")
        self._wait_nodes(1)
        self._start(f"--address={self.address}")
        self._wait_nodes(2)

    def _start(self, *args: str) -> None:
        with open(self.log, "ab") as log:
            self.procs.append(subprocess.Popen(
                [str(RAY), "start", "--block", "--num-cpus=1", "--disable-usage-stats", *args],
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
            kids = _descendants(proc.pid)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
            left += _wait_gone(kids, 30)
        for p in left:  # ours, by pid: never a test run that leaves Ray behind
            p.kill()
        return left


def test_without_ray_the_build_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    from assistant.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if not installed
    write_corpus(tmp_path / "corpus", 1)
    code = main(["build", "--corpus", str(tmp_path / "corpus"), "--index",
                 str(tmp_path / "index"), "--ray"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err == "error: Ray is not installed: pip install 'article-assistant[ray]' " \
                  "(or: pip install '.[ray]')"
    assert not (tmp_path / "index" / "CURRENT").exists()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("ray"))
    yield c
    left = c.stop()
    assert not left, f"Ray processes outlived the cluster: {[p.pid for p in left]}"


def cli_build(corpus: Path, index: Path, *extra: str, env: dict | None = None,
              log: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "build", "--corpus", str(corpus), "--index",
         str(index), *extra], cwd=REPO, env=env or dict(os.environ),
        stdout=subprocess.PIPE, stderr=open(log, "w") if log else subprocess.PIPE, text=True)


@needs_ray
@pytest.mark.slow
def test_ray_build_writes_the_same_build_as_a_local_one(tmp_path, cluster, embedder):
    from assistant.indexing import build
    from assistant.service import Assistant

    corpus = tmp_path / "corpus"
    write_corpus(corpus, 50)
    local = Settings().replace(corpus_dir=corpus, index_dir=tmp_path / "local")
    build(local, embedder=embedder, log=lambda _m: None, progress=False)

    proc = cli_build(corpus, tmp_path / "ray", "--ray", cluster.address, env=cluster.env)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    assert "on Ray: 2 worker(s)" in err, err[-3000:]  # one model actor per node's CPU
    assert "embedded" in out

    a, b = build_vectors(tmp_path / "local"), build_vectors(tmp_path / "ray")
    assert sorted(a) == sorted(b)
    assert len(a) > 128  # more than one actor call
    assert [len(a[k][1]) for k in sorted(a)] == [len(b[k][1]) for k in sorted(a)]
    chunk_cos, sent_cos = min_cosines(a, b)
    assert chunk_cos >= 0.9999 and sent_cos >= 0.9999, (chunk_cos, sent_cos)

    ma = store.read_manifest(store.current_build_dir(tmp_path / "local"))
    mb = store.read_manifest(store.current_build_dir(tmp_path / "ray"))
    for key in ("format_version", "model", "chunking", "lexical", "precision", "sources",
                "counts"):
        assert ma.get(key) == mb.get(key), key
    answer = Assistant.open(settings=local.replace(index_dir=tmp_path / "ray"),
                            embedder=embedder).ask(QUESTION)
    assert answer.citations and "mexico" in answer.citations[0].source.lower()
    # The build disconnected: the cluster's CPUs are free again (its actors are gone).
    assert _eventually(lambda: cluster.cpus_in_use() == 0.0, 60)


def _eventually(check, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while not check():
        if time.monotonic() > end:
            return False
        time.sleep(1)
    return True


@needs_ray
@pytest.mark.slow
def test_sigkill_during_a_ray_build_leaves_the_current_index_serving(tmp_path, cluster,
                                                                     embedder):
    from assistant.indexing import build
    from assistant.service import Assistant

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_corpus(corpus, 20)
    settings = Settings().replace(corpus_dir=corpus, index_dir=index)
    build(settings, embedder=embedder, log=lambda _m: None, progress=False)
    before = store.current_name(index)
    write_corpus(corpus, 60, start=20)  # new articles: the next build has to embed

    log = tmp_path / "killed.log"
    proc = cli_build(corpus, index, "--ray", cluster.address, env=cluster.env, log=log)
    assert _eventually(lambda: "chunks on Ray" in log.read_text() or proc.poll() is not None,
                       300)
    assert proc.poll() is None, log.read_text()[-3000:]
    assert _eventually(lambda: cluster.cpus_in_use() > 0 or proc.poll() is not None, 120)
    time.sleep(1.0)  # the actors are embedding
    assert proc.poll() is None, "the build finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)

    assert store.current_name(index) == before
    served = Assistant.open(settings=settings, embedder=embedder)
    answer = served.ask(QUESTION)
    assert answer.build_id == before and answer.citations
    served.build.close()
    # The cluster notices the dead driver and frees its actors' CPUs.
    assert _eventually(lambda: cluster.cpus_in_use() == 0.0, 120), cluster.status()
    # And the next Ray build on the same cluster completes and holds the new articles.
    again = cli_build(corpus, index, "--ray", cluster.address, env=cluster.env)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err[-3000:]
    assert store.current_name(index) != before
    assert not list((index / "builds").glob("*.partial"))
    assert store.read_manifest(store.current_build_dir(index))["counts"]["articles"] == 81


@needs_ray
@pytest.mark.slow
def test_a_local_ray_build_leaves_no_ray_process_behind(tmp_path):
    """`--ray` without an address starts a Ray of its own and stops it when the build ends; when
    the build is killed, Ray's processes notice their parent is gone and exit by themselves."""
    import psutil

    corpus = tmp_path / "corpus"
    write_corpus(corpus, 2)
    seen: dict[int, psutil.Process] = {}

    def run(kill: bool) -> subprocess.Popen:
        proc = cli_build(corpus, tmp_path / "index", "--ray", "--full",
                         log=tmp_path / "local-ray.log")
        while proc.poll() is None:
            for p in _descendants(proc.pid):
                seen.setdefault(p.pid, p)
            if kill and "chunks on Ray" in (tmp_path / "local-ray.log").read_text():
                time.sleep(1.0)
                seen.update((p.pid, p) for p in _descendants(proc.pid))
                os.kill(proc.pid, signal.SIGKILL)
            time.sleep(0.2)
        return proc

    done = run(kill=False)
    assert done.returncode == 0, (tmp_path / "local-ray.log").read_text()[-3000:]
    assert len(seen) >= 3  # Ray really ran: gcs_server, raylet, workers
    assert not _wait_gone(list(seen.values()), 30), "Ray outlived a finished build"

    seen.clear()
    killed = run(kill=True)
    assert killed.returncode == -signal.SIGKILL
    assert len(seen) >= 3
    left = _wait_gone(list(seen.values()), 240)
    for p in left:
        p.kill()
    assert not left, f"Ray processes outlived the killed build: {[p.name() for p in left]}"
