"""The BBC build embedded on a Ray cluster against the same build done locally.

    .venv/bin/python -m benchmarks.bench_ray [--data ../shared/data] [--limit N]
                                             [--nodes 2] [--cpus-per-node 1]

A real cluster on this machine: `ray start --head` plus worker nodes (devtools.ray_cluster), each
node with --cpus-per-node CPUs and one model actor per CPU. Both builds run in a fresh process
each (imports and, for Ray, connecting and starting the actors count, as they do for a user):
`assistant build` locally, then `assistant build --ray ADDRESS`. Then the two builds are compared
chunk by chunk: the same chunk ids, and the smallest cosine between a chunk's (and each of its
sentences') vectors in the two builds. Writes benchmarks/results/ray.json.

On one 2-core machine Ray cannot be faster: the same two cores do the same forward passes, plus
Ray's processes, serialisation and one-thread actors instead of one two-thread model. What this
measures is that overhead; the speed-up comes from adding machines.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import HERE, ROOT, data_path, parser

BUILD_SNIPPET = """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from assistant.config import Settings
from assistant.service import build_index, ray_embedder
s = Settings().replace(corpus_dir=Path(sys.argv[1]), index_dir=Path(sys.argv[2]))
emb = ray_embedder(s, address=sys.argv[3], workers=int(sys.argv[4]),
                   cpus_per_worker=int(sys.argv[5])) if len(sys.argv) > 3 else None
r = build_index(s, embedder=emb, log=lambda m: None, progress=False)
out = {k: getattr(r, k) for k in ("articles", "chunks", "tokens", "embedded_chunks",
       "embedded_tokens", "embed_seconds")}
out["precision"] = json.loads((r.build_dir / "manifest.json").read_text())["precision"]
out["build_seconds"] = r.seconds
out["process_seconds"] = time.perf_counter() - t0
print(json.dumps(out))
"""


def run_build(corpus: Path, index: Path, env: dict, *ray_args: str) -> dict:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", BUILD_SNIPPET, str(corpus), str(index),
                           *ray_args], capture_output=True, text=True, cwd=ROOT, env=env)
    wall = time.perf_counter() - t
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["wall_seconds"] = wall
    res["tokens_per_s_build"] = res["embedded_tokens"] / res["build_seconds"]
    res["tokens_per_s_embedding"] = res["embedded_tokens"] / res["embed_seconds"]
    res["tokens_per_s_wall"] = res["embedded_tokens"] / wall
    return res


def ray_build(corpus: Path, index: Path, work: Path, args) -> dict:
    """One build on a cluster started for it (so no idle cluster runs beside a local build)."""
    from devtools.ray_cluster import Cluster

    t = time.perf_counter()
    cluster = Cluster(work, nodes=args.nodes, cpus=args.cpus_per_node)
    start = time.perf_counter() - t
    try:
        res = run_build(corpus, index, cluster.env, cluster.address,
                        str(args.nodes * args.cpus_per_node), "1")
    finally:
        left = cluster.stop()
    return {**res, "cluster_start_seconds": start, "processes_left_after_stop": len(left)}


def median_run(runs: list[dict]) -> dict:
    """The run with the median wall time (the first of the middle two when even), plus every
    run's wall time."""
    ordered = sorted(runs, key=lambda r: r["wall_seconds"])
    return {**ordered[(len(ordered) - 1) // 2],
            "runs_wall_seconds": [r["wall_seconds"] for r in runs]}


def main() -> None:
    ap = parser()
    ap.add_argument("--limit", type=int, default=0, help="only the first N articles (a smoke run)")
    ap.add_argument("--nodes", type=int, default=2, help="Ray nodes: the head and N-1 workers")
    ap.add_argument("--cpus-per-node", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=1,
                    help="builds of each kind, alternating which goes first; the median is kept")
    ap.add_argument("--local-threads", type=int, default=0,
                    help="torch threads of the local build (default: ASSISTANT_THREADS, all cores)")
    ap.add_argument("--out", default=str(HERE / "results" / "ray.json"))
    args = ap.parse_args()
    bbc = data_path(args, "bbc-fulltext", "bbc", what="BBC corpus")
    from devtools.ray_cluster import build_vectors, min_cosines

    files = sorted(bbc.rglob("*.txt"))[: args.limit or None]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        corpus = Path(tmp) / "corpus"
        for p in files:
            dest = corpus / p.relative_to(bbc)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dest)
        runs: dict[str, list[dict]] = {"local": [], "ray": []}
        local_env = dict(os.environ)
        if args.local_threads:
            local_env["ASSISTANT_THREADS"] = str(args.local_threads)
        for i in range(args.repeats):
            # Alternating which goes first, so a change in the machine's load over the run
            # does not always fall on the same side.
            for kind in (("local", "ray") if i % 2 == 0 else ("ray", "local")):
                index = Path(tmp) / f"{kind}-{i}"
                runs[kind].append(run_build(corpus, index, local_env) if kind == "local"
                                  else ray_build(corpus, index, Path(tmp), args))
        a, b = build_vectors(Path(tmp) / "local-0"), build_vectors(Path(tmp) / "ray-0")
    local, ray = median_run(runs["local"]), median_run(runs["ray"])
    same_ids = sorted(a) == sorted(b)
    chunk_cos, sent_cos = min_cosines(a, b) if same_ids else (None, None)
    result = {
        "command": "python -m benchmarks.bench_ray"
                   + (f" --limit {args.limit}" if args.limit else "")
                   + f" --nodes {args.nodes} --cpus-per-node {args.cpus_per_node}"
                   + (f" --repeats {args.repeats}" if args.repeats > 1 else "")
                   + (f" --local-threads {args.local_threads}" if args.local_threads else ""),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "load_average_before": load_before,
                    "load_average_after": os.getloadavg()},
        "files": len(files),
        "cluster": {"nodes": args.nodes, "cpus_per_node": args.cpus_per_node,
                    "model_actors": args.nodes * args.cpus_per_node, "threads_per_actor": 1,
                    "start_seconds": ray["cluster_start_seconds"],
                    "processes_left_after_stop": sum(r["processes_left_after_stop"]
                                                     for r in runs["ray"])},
        "repeats": args.repeats, "local": local, "ray": ray,
        "same_chunk_ids": same_ids, "chunks_compared": len(a),
        "sentences_compared": sum(len(v[1]) for v in a.values()),
        "min_chunk_cosine": chunk_cos, "min_sentence_cosine": sent_cos,
        "ray_over_local_wall": ray["wall_seconds"] / local["wall_seconds"],
        "ray_over_local_tokens_per_s": ray["tokens_per_s_build"] / local["tokens_per_s_build"],
    }
    result["bar_met"] = bool(same_ids and chunk_cos >= 0.9999 and sent_cos >= 0.9999
                             and ray["chunks"] == local["chunks"])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
