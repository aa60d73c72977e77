"""`assistant build --ray`: the build embedded on a real Ray cluster (a head and one worker node
started here with `ray start`, each with one CPU) writes the same build as a local one, a build
killed mid-embedding leaves the current index serving, and no Ray process outlives its build."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.index import format as index_format
from assistant.index import layout
from devtools.ports import free_port
from devtools.ray_cluster import (
    RAY,
    Cluster,
    build_vectors,
    descendants,
    eventually,
    min_cosines,
    wait_gone,
)

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "corpus" / "mexico-us-cross-border-crime-cooperation.txt"
QUESTION = "Who will lead the coordinated efforts?"

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


def test_an_address_where_no_ray_listens_is_one_line(tmp_path, capsys):
    from assistant.cli import main

    write_corpus(tmp_path / "corpus", 1)
    address = f"127.0.0.1:{free_port()}"
    code = main(["build", "--corpus", str(tmp_path / "corpus"), "--index",
                 str(tmp_path / "index"), "--ray", address])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith(f"error: could not reach the Ray cluster at {address} (")
    assert "leave it out to start a local Ray" in err[-1]
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
    from assistant.index.builder import build
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

    ma = index_format.read_manifest(layout.current_build_dir(tmp_path / "local"))
    mb = index_format.read_manifest(layout.current_build_dir(tmp_path / "ray"))
    for key in ("format_version", "model", "chunking", "lexical", "precision", "sources",
                "counts"):
        assert key in ma and ma[key] == mb[key], key
    answer = Assistant.open(settings=local.replace(index_dir=tmp_path / "ray"),
                            embedder=embedder).ask(QUESTION)
    assert answer.citations and "mexico" in answer.citations[0].source.lower()
    # The build disconnected: the cluster's CPUs are free again (its actors are gone).
    assert eventually(lambda: cluster.cpus_in_use() == 0.0, 60)


WHERE_SNIPPET = """
import sys
from assistant.distributed import RayEmbedder, import_ray
ray = import_ray()
with RayEmbedder(sys.argv[1])._session(ray):
    @ray.remote(num_cpus=1)
    def where():
        import assistant
        return assistant.__file__
    print(ray.get(where.remote()))
"""


@needs_ray
@pytest.mark.slow
def test_the_workers_run_the_package_the_build_ships_them(cluster, tmp_path):
    """Not whatever `assistant` the nodes have installed (here: the same virtualenv's): the
    driver's copy, unpacked by Ray on the node. The driver runs outside the checkout, because
    Ray also puts the driver's working directory on the workers' path (which only helps when
    the nodes share its filesystem, as they do here)."""
    env = dict(cluster.env, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", WHERE_SNIPPET, cluster.address], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    worker_file = Path(out.stdout.strip().splitlines()[-1])
    assert worker_file.name == "__init__.py" and worker_file.parent.name == "assistant"
    assert "runtime_resources" in worker_file.parts, worker_file
    assert not worker_file.is_relative_to(REPO)


@needs_ray
@pytest.mark.slow
def test_a_cluster_that_refuses_the_build_is_one_line(tmp_path, cluster):
    """Reachable, but the build lacks the cluster's token: one line that says why."""
    write_corpus(tmp_path / "corpus", 1)
    env = {k: v for k, v in cluster.env.items() if not k.startswith("RAY_AUTH")}
    proc = cli_build(tmp_path / "corpus", tmp_path / "index", "--ray", cluster.address, env=env)
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 2, err[-3000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"error: could not reach the Ray cluster at {cluster.address} (")
    assert "RAY_AUTH_MODE=token and its RAY_AUTH_TOKEN" in last, last
    assert "Traceback" not in err
    assert not (tmp_path / "index" / "CURRENT").exists()


@needs_ray
@pytest.mark.slow
def test_sigkill_during_a_ray_build_leaves_the_current_index_serving(tmp_path, cluster,
                                                                     embedder):
    from assistant.index.builder import build
    from assistant.service import Assistant

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write_corpus(corpus, 20)
    settings = Settings().replace(corpus_dir=corpus, index_dir=index)
    build(settings, embedder=embedder, log=lambda _m: None, progress=False)
    before = layout.current_name(index)
    write_corpus(corpus, 150, start=20)  # ~400 new chunks: seconds of embedding, even quiet

    log = tmp_path / "killed.log"
    proc = cli_build(corpus, index, "--ray", cluster.address, env=cluster.env, log=log)
    assert eventually(lambda: "chunks on Ray" in log.read_text() or proc.poll() is not None,
                       300)
    assert proc.poll() is None, log.read_text()[-3000:]
    assert eventually(lambda: cluster.cpus_in_use() > 0 or proc.poll() is not None, 120)
    time.sleep(0.5)  # the actors hold their CPUs: loading the model or embedding
    assert proc.poll() is None, "the build finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)

    assert layout.current_name(index) == before
    served = Assistant.open(settings=settings, embedder=embedder)
    answer = served.ask(QUESTION)
    assert answer.build_id == before and answer.citations
    served.current().snapshot.close()
    # The cluster notices the dead driver and frees its actors' CPUs.
    assert eventually(lambda: cluster.cpus_in_use() == 0.0, 120), cluster.status()
    # And the next Ray build on the same cluster completes and holds the new articles.
    again = cli_build(corpus, index, "--ray", cluster.address, env=cluster.env)
    _out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err[-3000:]
    assert layout.current_name(index) != before
    assert not list((index / "builds").glob("*.partial"))
    assert index_format.read_manifest(layout.current_build_dir(index))["counts"]["articles"] == 171


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
            for p in descendants(proc.pid):
                seen.setdefault(p.pid, p)
            if kill and "chunks on Ray" in (tmp_path / "local-ray.log").read_text():
                time.sleep(1.0)
                seen.update((p.pid, p) for p in descendants(proc.pid))
                os.kill(proc.pid, signal.SIGKILL)
            time.sleep(0.2)
        return proc

    done = run(kill=False)
    assert done.returncode == 0, (tmp_path / "local-ray.log").read_text()[-3000:]
    assert len(seen) >= 3  # Ray really ran: gcs_server, raylet, workers
    assert not wait_gone(list(seen.values()), 30), "Ray outlived a finished build"

    seen.clear()
    killed = run(kill=True)
    assert killed.returncode == -signal.SIGKILL
    assert len(seen) >= 3
    left = wait_gone(list(seen.values()), 240)
    for p in left:
        p.kill()
    assert not left, f"Ray processes outlived the killed build: {[p.name() for p in left]}"
