"""What the benchmark scripts share: the import path, the `--data`/`--work` options, finding a
data set (or skipping with a clear message), and SciFact train ready for tuning."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def parser(work: str | None = None, **kwargs) -> argparse.ArgumentParser:
    """An argument parser with `--data` (the shared evaluation data) and, given a default,
    `--work` (where evaluation indexes are kept and reused)."""
    ap = argparse.ArgumentParser(**kwargs)
    ap.add_argument("--data", default=os.environ.get("ASSISTANT_EVAL_DATA",
                                                     str(ROOT.parent / "shared" / "data")))
    if work is not None:
        ap.add_argument("--work", default=work)
    return ap


def data_path(args, *parts: str, what: str) -> Path:
    """`--data` joined with parts; exits with a skip message when it is not there."""
    path = Path(args.data).joinpath(*parts)
    if not path.exists():
        raise SystemExit(f"{what} not found at {path}: pass --data (skipping)")
    return path


def scifact_train(args):
    """SciFact train, indexed in `--work` (reused when unchanged): (build, qids, queries, qrels,
    question vectors)."""
    from assistant.config import Settings
    from assistant.embedding import Embedder
    from assistant.eval import beir_articles, ensure_index, load_beir
    from assistant.index.snapshot import Snapshot as Build

    beir = data_path(args, "scifact", "beir", what="SciFact")
    emb = Embedder.from_settings(Settings())
    docs, queries, qrels = load_beir(beir, "train")
    ensure_index(beir_articles(docs), Path(args.work), Settings(), emb)
    build = Build(Path(args.work), emb.name, emb.dim)
    qids = list(queries)
    qvecs = emb.encode_queries([queries[q] for q in qids])
    return build, qids, queries, qrels, qvecs


def save_result(name: str, result: dict) -> Path:
    """Write benchmarks/results/<name>.json."""
    import json

    path = HERE / "results" / f"{name}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    return path
