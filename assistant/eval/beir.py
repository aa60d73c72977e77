"""Retrieval quality on a BEIR folder (corpus.jsonl, queries.jsonl, qrels/): nDCG@10, recall
and MRR by ranx, per retrieval mode."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from ..config import Settings
from ..records import Article, Section, content_id
from ..service import Assistant, make_embedder
from .batch import rank_sources
from .common import ensure_index

METRICS = ["ndcg@10", "recall@10", "recall@100", "mrr@10"]


def load_beir(beir_dir: Path, split: str = "test"):
    beir_dir = Path(beir_dir)
    with open(beir_dir / "corpus.jsonl", encoding="utf-8") as fh:
        docs = [json.loads(line) for line in fh]
    with open(beir_dir / "queries.jsonl", encoding="utf-8") as fh:
        queries = {q["_id"]: q["text"] for q in map(json.loads, fh)}
    qrels: dict[str, dict[str, int]] = {}
    with open(beir_dir / "qrels" / f"{split}.tsv", encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            qid, did, score = line.rstrip("\n").split("\t")
            if int(score) > 0:
                qrels.setdefault(qid, {})[did] = int(score)
    queries = {qid: queries[qid] for qid in qrels if qid in queries}
    return docs, queries, qrels


def beir_articles(docs) -> list[Article]:
    out = []
    for d in docs:
        text = (d.get("text") or "").strip() or (d.get("title") or d["_id"])
        title = (d.get("title") or "").strip() or d["_id"]
        out.append(Article(id=content_id(d["_id"]), title=title, source=d["_id"],
                           sections=(Section((), " ".join(text.split())),),
                           sha256=content_id(text)))
    return out


def beir_run(retriever, qids, qvecs, qtoks, mode: str = "hybrid") -> dict[str, dict[str, float]]:
    """A ranx run from a Retriever the caller made: per query, the 100 best documents from 300
    chunks. For the tuning scripts, which try fusions and BM25 settings below the facade."""
    from ..retrieval import rank_documents  # tuning varies the retriever itself

    runs = rank_documents(retriever, qvecs, qtoks, 100, 300, mode)
    return {qid: run or {"__none__": 0.0} for qid, run in zip(qids, runs)}


def run_beir(beir_dir: Path, split: str = "test", settings: Settings | None = None,
             index_dir: Path | None = None, fusion=None, modes=("dense", "lexical", "hybrid"),
             embedder=None, progress: bool | None = None) -> dict:
    from ranx import Qrels, Run, evaluate

    settings = settings or Settings()
    embedder = embedder or make_embedder(settings)
    docs, queries, qrels = load_beir(beir_dir, split)
    tmp = None
    if index_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="assistant-beir-")
        index_dir = Path(tmp.name)
    try:
        ensure_index(beir_articles(docs), Path(index_dir), settings, embedder, progress)
        kwargs = {"fusion": fusion} if fusion is not None else {}
        assistant = Assistant.open(index_dir, settings, embedder=embedder, **kwargs)
        qids = list(queries)
        results: dict = {}
        ranked = rank_sources(assistant, [queries[q] for q in qids], k=100, chunks=300, modes=modes)
        for mode, runs in ranked.items():
            run = {qid: r or {"__none__": 0.0} for qid, r in zip(qids, runs)}
            scores = evaluate(Qrels(qrels), Run(run), METRICS, make_comparable=True)
            results[mode] = {m: float(v) for m, v in scores.items()}
        results["queries"] = len(qids)
        results["documents"] = len(docs)
        return results
    finally:
        if tmp is not None:
            tmp.cleanup()
