"""Scale (issue 15): a million-chunk index on one machine: build, open, ask, update, recall.

    .venv/bin/python -m benchmarks.bench_scale [--chunks 1000000] [--steps 4]
        [--work /tmp/assistant-scale] [--questions 200] [--update 1000] [--sweep] [--app]

Text: plain-text articles recombined from BBC and SciFact sentences (a title line, two or three
sections of three to six sentences), written to `--work`/corpus and indexed by the real build
(`assistant.index.builder.build`: scan, sha256, parse, chunk with the model's tokenizer, SQLite,
vectors, BM25), in `--steps` incremental builds so no step holds the whole corpus in memory.

Vectors are SYNTHETIC: a pool of sentences is embedded for real with MiniLM; a sentence's vector
is its pool vector plus a little noise, a chunk's the mean of its sentences' plus noise. Embedding
a million chunks for real takes about ten hours on two cores; this benchmark measures the store
and the query path, not answer quality. Questions are encoded by the real model.

Measured (each serving figure in a fresh process): open time, RSS after open and after the
questions, `ask` p50/p95 warm (Assistant.ask, extractive), disk size, an incremental update that
adds `--update` articles (its real embedding time estimated from a sample, reported apart), and
recall@10 of the IVF index against exact search at several nprobe. `--sweep` times flat and IVF
search at several sizes (the FLAT_LIMIT choice). `--app` times the app's first page load on the
index (Streamlit AppTest), which depends on the article filter of issue 13.
Writes benchmarks/results/scale.json.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HEADINGS = ["Background", "What Happened", "Reaction", "Details", "Analysis", "What Comes Next",
            "Context", "The Evidence", "Outlook"]


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


# ------------------------------------------------------------------------------ text and vectors

def sentence_pool(data: Path, n: int, seed: int = 3) -> list[str]:
    """n sentences, half from BBC articles and half from SciFact abstracts."""
    from assistant.chunking import sentence_spans

    rng = random.Random(seed)
    bbc, sci = [], []
    for p in sorted((data / "bbc-fulltext" / "bbc").rglob("*.txt")):
        body = p.read_text(encoding="latin-1").split("\n", 1)[-1]
        bbc += [body[a:b] for a, b in sentence_spans(body)]
    with open(data / "scifact" / "beir" / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line)["text"]
            sci += [text[a:b] for a, b in sentence_spans(text)]
    keep = [s for s in dict.fromkeys(bbc + sci) if 40 <= len(s) <= 300 and "\n" not in s]
    bbc_set = set(bbc)
    b = [s for s in keep if s in bbc_set]
    s = [x for x in keep if x not in bbc_set]
    rng.shuffle(b)
    rng.shuffle(s)
    return b[: n // 2] + s[: n - n // 2]


def topics_of(vectors: np.ndarray, n_topics: int) -> list[list[int]]:
    """Pool sentences grouped by meaning (k-means): an article draws from one group, so its
    chunks are about one thing, as real articles are, and the index has real cluster structure."""
    import faiss

    km = faiss.Kmeans(vectors.shape[1], n_topics, niter=20, seed=1, spherical=True)
    km.train(np.ascontiguousarray(vectors, dtype=np.float32))
    _, assign = km.index.search(np.ascontiguousarray(vectors, dtype=np.float32), 1)
    groups = [[] for _ in range(n_topics)]
    for i, t in enumerate(assign[:, 0]):
        groups[t].append(i)
    return [g for g in groups if len(g) >= 8]


def article_text(i: int, pool: list[str], topics: list[list[int]]) -> str:
    rng = random.Random(i)
    topic = topics[rng.randrange(len(topics))]

    def sentence() -> str:  # mostly from the article's topic, now and then from anywhere
        return pool[rng.choice(topic)] if rng.random() < 0.9 else rng.choice(pool)

    title = " ".join(sentence().rstrip(".!?").split()[:7])
    parts = [f"{title} (story {i})", ""]
    for h in rng.sample(HEADINGS, rng.randint(2, 3)):
        parts += [h, " ".join(sentence() for _ in range(rng.randint(3, 6))), ""]
    return "\n".join(parts)


def write_articles(corpus: Path, start: int, count: int, pool: list[str],
                   topics: list[list[int]]) -> None:
    for i in range(start, start + count):
        d = corpus / f"{i // 1000:04d}"
        if i % 1000 == 0 or i == start:
            d.mkdir(parents=True, exist_ok=True)
        (d / f"story-{i:07d}.txt").write_text(article_text(i, pool, topics), encoding="utf-8")


class SyntheticEmbedder:
    """The real model's name, dimension and tokenizer; vectors made from the pool's real
    embeddings plus noise (see the module docstring). Questions are encoded for real."""

    def __init__(self, real, pool: list[str], pool_vectors: np.ndarray, noise: float = 0.01):
        self.real = real
        self.name, self.dim = real.name, real.dim
        self.precision = getattr(real, "precision", "fp32")
        self.index = {s: i for i, s in enumerate(pool)}
        self.pool_vectors = pool_vectors
        self.noise = noise
        self.rng = np.random.default_rng(11)
        self.words_only = False

    def count_tokens(self, texts):
        if self.words_only:  # an estimate (4 word pieces per 3 words), to save build time
            return [len(t.split()) * 4 // 3 + 1 for t in texts]
        return self.real.count_tokens(texts)

    def encode_queries(self, texts):
        return self.real.encode_queries(texts)

    def _vector(self, sentence: str) -> np.ndarray:
        i = self.index.get(sentence.strip())
        if i is None:  # split differently from the pool: a stable stand-in
            i = zlib.crc32(sentence.encode("utf-8", "replace")) % len(self.pool_vectors)
        return self.pool_vectors[i]

    def encode_chunks(self, texts, spans, progress=None, on_progress=None):
        from assistant.embedding import EncodedChunks

        vectors = np.zeros((len(texts), self.dim), np.float32)
        sentences = []
        for k, (text, sp) in enumerate(zip(texts, spans)):
            sv = np.stack([self._vector(text[a:b]) for a, b in sp]) if len(sp) else \
                np.zeros((0, self.dim), np.float32)
            sv = sv + self.rng.normal(0, self.noise, sv.shape).astype(np.float32)
            sv /= np.linalg.norm(sv, axis=1, keepdims=True)
            v = sv.mean(axis=0) + self.rng.normal(0, self.noise, self.dim).astype(np.float32)
            vectors[k] = v / np.linalg.norm(v)
            sentences.append(sv.astype(np.float16))
        return EncodedChunks(vectors, sentences, 0)


def questions_from(pool: list[str], n: int, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    templates = ["What is known about {}?", "Tell me about {}", "Why {}?", "What happened: {}?"]
    out = []
    for i in range(n):
        words = rng.choice(pool).rstrip(".!?").split()
        lo = rng.randint(0, max(0, len(words) - 8))
        out.append(templates[i % len(templates)].format(" ".join(words[lo:lo + 8])))
    return out


# ------------------------------------------------------------------------------ phases

def make_embedder(work: Path, data: Path, pool_size: int):
    """The synthetic embedder, the sentence pool and its topics. Pool vectors are cached in
    --work/pool.npz by sentence, so a larger pool embeds only the sentences it adds."""
    from assistant.config import Settings
    from assistant.embedding import Embedder

    real = Embedder.from_settings(Settings())
    cache = work / "pool.npz"
    known: dict[str, np.ndarray] = {}
    if cache.is_file():
        z = np.load(cache, allow_pickle=False)
        known = dict(zip(z["pool"].tolist(), z["vectors"]))
    pool = sentence_pool(data, pool_size)
    todo = [x for x in pool if x not in known]
    t = time.perf_counter()
    for i in range(0, len(todo), 256):
        known.update(zip(todo[i:i + 256], real.encode_queries(todo[i:i + 256])))
    if todo:
        print(f"embedded {len(todo)} pool sentences in {time.perf_counter() - t:.0f}s", flush=True)
        np.savez(cache, pool=np.array(list(known)), vectors=np.stack(list(known.values())))
    vecs = np.stack([known[x] for x in pool])
    np.save(work / "pool-in-use.npy", np.array(pool))
    return SyntheticEmbedder(real, pool, vecs), pool, topics_of(vecs, max(8, len(pool) // 60))


def build_index(args, emb, pool: list[str], topics: list[list[int]]) -> dict:
    """Grow the corpus in steps until the index has about --chunks chunks."""
    from assistant.config import Settings
    from assistant.index.builder import build

    corpus, index = Path(args.work) / "corpus", Path(args.work) / "index"
    settings = Settings().replace(corpus_dir=corpus, index_dir=index)
    steps, n_articles, chunks, per_article = [], 0, 0, 3.0
    for step in range(args.steps):
        want = args.chunks * (step + 1) // args.steps - chunks
        add = max(1, round(want / per_article))
        t = time.perf_counter()
        write_articles(corpus, n_articles, add, pool, topics)
        written = time.perf_counter() - t
        n_articles += add
        r = build(settings, embedder=emb, log=lambda m: None)
        chunks = r.chunks
        per_article = chunks / n_articles
        steps.append({"articles": n_articles, "chunks": chunks, "write_files_s": written,
                      "build_s": r.seconds, "synthetic_embed_s": r.embed_seconds,
                      "lexical_s": r.lexical_seconds, "write_s": r.write_seconds,
                      "embedded_chunks": r.embedded_chunks, "peak_rss_mb": peak_rss_mb()})
        print(json.dumps(steps[-1]), flush=True)
    return {"steps": steps, "articles": n_articles, "chunks": chunks}


def update(args, emb, pool: list[str], topics: list[list[int]], n_articles: int) -> dict:
    """Add --update articles to the built index: the build's time, and the real model's time
    to embed their chunks (estimated from a sample of them)."""
    from assistant.chunking import chunk_article
    from assistant.config import Settings
    from assistant.index.builder import build
    from assistant.loaders import load_article
    from assistant.text import embed_prefix

    corpus, index = Path(args.work) / "corpus", Path(args.work) / "index"
    write_articles(corpus, n_articles, args.update, pool, topics)
    settings = Settings().replace(corpus_dir=corpus, index_dir=index)
    r = build(settings, embedder=emb, log=lambda m: None)
    # The real model on a sample of the new chunks.
    files = sorted(corpus.rglob("story-*.txt"))[-args.update:]
    sample = random.Random(2).sample(files, min(40, len(files)))
    texts, spans = [], []
    for p in sample:
        art = load_article(p, p.relative_to(corpus).as_posix(), 10 ** 7)
        for c in chunk_article(art, emb.count_tokens, settings.chunk_tokens):
            prefix = embed_prefix(art.title, c.heading_path)
            texts.append(prefix + c.text)
            shift = len(prefix) - c.start
            spans.append([(s + shift, e + shift) for s, e in c.sentences])
    t = time.perf_counter()
    emb.real.encode_chunks(texts, spans)
    per_chunk = (time.perf_counter() - t) / len(texts)
    return {"articles_added": args.update, "chunks_embedded": r.embedded_chunks,
            "seconds_without_embedding": r.seconds - r.embed_seconds,
            "synthetic_embed_s": r.embed_seconds, "lexical_s": r.lexical_seconds,
            "write_s": r.write_seconds,
            "real_embedding_s_estimated": per_chunk * r.embedded_chunks,
            "real_embedding_sample_chunks": len(texts), "chunks_after": r.chunks,
            "peak_rss_mb": peak_rss_mb()}


def serve(args) -> dict:
    """In a fresh process: open, RSS, ask latency, status() cost."""
    import bm25s  # noqa: F401 - imported by any running app already: not part of opening
    import faiss  # noqa: F401

    from assistant.config import Settings
    from assistant.embedding import Embedder
    from assistant.index import snapshot
    from assistant.service import Assistant

    index = Path(args.work) / "index"
    rss0 = rss_mb()
    emb = Embedder.from_settings(Settings())
    emb.encode_queries(["warm the model up"])
    rss_model = rss_mb()
    t = time.perf_counter()
    b = snapshot.Snapshot(index, emb.name, emb.dim)
    open_build = time.perf_counter() - t
    b.close()
    t = time.perf_counter()
    a = Assistant.open(settings=Settings().replace(index_dir=index), embedder=emb)
    open_assistant = time.perf_counter() - t
    rss_open = rss_mb()
    pool = np.load(Path(args.work) / "pool-in-use.npy").tolist()
    qs = questions_from(pool, args.questions)
    for q in qs[:10]:
        a.ask(q)
    lat, retrieve = [], []
    for q in qs:
        t = time.perf_counter()
        ans = a.ask(q)
        lat.append((time.perf_counter() - t) * 1000)
        retrieve.append(ans.timings_ms.get("retrieve", 0.0))
    # The store's share: search and answer from precomputed question vectors (no encoding,
    # whose time depends on how busy the cores are).
    vecs = a.encode(qs)
    path = []
    for q, v in zip(qs, vecs):
        t = time.perf_counter()
        a.current().answer(q, v, q, v)
        path.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    a.status()
    status_s = time.perf_counter() - t
    q = np.percentile
    return {"load_average": os.getloadavg(), "open_build_s": open_build, "open_assistant_s": open_assistant,
            "rss_start_mb": rss0, "rss_model_loaded_mb": rss_model, "rss_after_open_mb": rss_open,
            "rss_after_questions_mb": rss_mb(), "questions": len(qs),
            "ask_ms": {"p50": float(q(lat, 50)), "p95": float(q(lat, 95)), "max": max(lat),
                       "mean": statistics.fmean(lat)},
            "retrieve_ms": {"p50": float(q(retrieve, 50)), "p95": float(q(retrieve, 95))},
            "search_and_answer_ms": {"p50": float(q(path, 50)), "p95": float(q(path, 95))},
            "status_s": status_s, "manifest": {k: b.manifest.get(k) for k in
                                               ("faiss", "sentence_vectors", "counts")}}


def recall(args) -> dict:
    """recall@10 of the IVF index against exact search over the same stored vectors."""
    from assistant.config import Settings
    from assistant.embedding import Embedder
    from assistant.index import snapshot

    emb = Embedder.from_settings(Settings())
    b = snapshot.Snapshot(Path(args.work) / "index", emb.name, emb.dim, for_reuse=True)
    pool = np.load(Path(args.work) / "pool-in-use.npy").tolist()
    qv = emb.encode_queries(questions_from(pool, args.questions, seed=9))
    index, n = b.dense.index, b.dense.count
    best = np.full((len(qv), 10), -np.inf, np.float32)
    best_ids = np.zeros((len(qv), 10), np.int64)
    for lo in range(0, n, 65536):
        block = index.reconstruct_batch(np.arange(lo, min(lo + 65536, n), dtype=np.int64))
        s = qv @ block.T
        allv = np.concatenate([best, s], 1)
        alli = np.concatenate([best_ids, np.arange(lo, lo + len(block))[None, :].repeat(len(qv), 0)], 1)
        top = np.argpartition(-allv, 9, axis=1)[:, :10]
        best = np.take_along_axis(allv, top, 1)
        best_ids = np.take_along_axis(alli, top, 1)
    out = {"index": b.manifest.get("faiss"), "queries": len(qv), "by_nprobe": {}}
    if hasattr(index, "nprobe"):
        default = index.nprobe
        for nprobe in sorted({x for x in (16, 32, 64, 128, 256, 384, 512, 1024) if x <= index.nlist}
                             | {default}):
            index.nprobe = nprobe
            t = time.perf_counter()
            _, ids = index.search(qv, 10)
            ms = (time.perf_counter() - t) * 1000 / len(qv)
            r = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(ids, best_ids)])
            out["by_nprobe"][nprobe] = {"recall@10": float(r), "ms_per_query": ms}
        out["recall@10"] = out["by_nprobe"][default]["recall@10"]
        out["nprobe"] = default
    return out


def sweep(args) -> dict:
    """Flat vs IVF search time (k=100, as retrieval asks) at several sizes."""
    import faiss

    from assistant.config import Settings
    from assistant.embedding import Embedder
    from assistant.index import dense, snapshot

    emb = Embedder.from_settings(Settings())
    b = snapshot.Snapshot(Path(args.work) / "index", emb.name, emb.dim, for_reuse=True)
    n = b.dense.count
    rows = np.arange(n, dtype=np.int64)
    pool = np.load(Path(args.work) / "pool-in-use.npy").tolist()
    qv = emb.encode_queries(questions_from(pool, 50, seed=13))
    out = []
    for size in [s for s in (50_000, 100_000, 200_000, 400_000, 1_000_000) if s <= n]:
        x = np.concatenate([b.dense.vectors(rows[lo:min(lo + 65536, size)])
                            for lo in range(0, size, 65536)])
        flat = faiss.IndexFlatIP(x.shape[1])
        flat.add(x)
        t = time.perf_counter()
        for q in qv:
            flat.search(q[None, :], 100)
        flat_ms = (time.perf_counter() - t) * 1000 / len(qv)
        plan = {**dense.index_plan(max(size, dense.FLAT_LIMIT + 1))}
        plan["nlist"] = min(plan["nlist"], size // 40)
        tmp = Path(args.work) / "sweep.faiss"
        dense.write_index(tmp, plan, x.shape[1], iter([x]), np.zeros((0, x.shape[1])))
        ivf = dense.open_index(tmp, plan)
        t = time.perf_counter()
        for q in qv:
            ivf.search(q[None, :], 100)
        ivf_ms = (time.perf_counter() - t) * 1000 / len(qv)
        out.append({"chunks": size, "flat_ms": flat_ms, "ivf_ms": ivf_ms, "ivf": plan})
        print(json.dumps(out[-1]), flush=True)
        del flat, ivf, x
        tmp.unlink()
    return {"k": 100, "by_size": out}


def app_first_load(args) -> dict:
    """The app's first run on this index (server side, Streamlit AppTest). Issue 13's article
    filter decides whether the app lists every article on its first page."""
    from streamlit.testing.v1 import AppTest

    from assistant.index.scan import scan_corpus_stats

    corpus = Path(args.work) / "corpus"
    os.environ["ASSISTANT_INDEX_DIR"] = str(Path(args.work) / "index")
    os.environ["ASSISTANT_CORPUS_DIR"] = str(corpus)
    t = time.perf_counter()
    files = scan_corpus_stats(corpus)[0]  # one walk of the corpus, as the app's watcher does
    walk = {"files": len(files), "seconds": time.perf_counter() - t}
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    t = time.perf_counter()
    at.run()
    first = time.perf_counter() - t
    t = time.perf_counter()
    at.run()
    return {"first_run_s": first, "second_run_s": time.perf_counter() - t, "corpus_walk": walk,
            "exception": [str(e.value)[:200] for e in at.exception]}


def disk(path: Path) -> dict:
    sizes = {}
    for p in path.rglob("*"):
        if p.is_file():
            top = p.relative_to(path).parts[0]
            sizes[top] = sizes.get(top, 0) + p.stat().st_size
    return {"total_bytes": sum(sizes.values()), "by_file": dict(sorted(sizes.items()))}


def in_fresh_process(args, phase: str) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.bench_scale", "--phase", phase, "--work", args.work,
           "--questions", str(args.questions), "--pool", str(args.pool)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.environ.get("ASSISTANT_EVAL_DATA",
                                                     str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--work", default="/tmp/assistant-scale")
    ap.add_argument("--chunks", type=int, default=1_000_000)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--pool", type=int, default=20_000, help="sentences embedded for real")
    ap.add_argument("--questions", type=int, default=200)
    ap.add_argument("--update", type=int, default=1000, help="articles added by the update")
    ap.add_argument("--reuse", action="store_true", help="keep an index already in --work")
    ap.add_argument("--sweep", action="store_true", help="also time flat vs IVF by size")
    ap.add_argument("--app", action="store_true", help="also time the app's first page load")
    ap.add_argument("--word-tokens", action="store_true", help="chunk by an estimate of the "
                    "token count from words instead of the model's tokenizer (a faster build)")
    ap.add_argument("--out", default="scale", help="results name: benchmarks/results/NAME.json")
    ap.add_argument("--flat-limit", type=int, help="chunks up to which the index is flat "
                    "(default: the store's FLAT_LIMIT; lower it to try the IVF path on a small run)")
    ap.add_argument("--phase", choices=["serve", "recall", "sweep", "app", "update"],
                    help="one measurement on the index already in --work (update: add --update "
                         "articles, printing what the update phase records)")
    args = ap.parse_args()
    if args.phase == "update":
        emb, pool, topics = make_embedder(Path(args.work), Path(args.data), args.pool)
        emb.words_only = args.word_tokens
        n = len(list((Path(args.work) / "corpus").rglob("story-*.txt")))
        print(json.dumps(update(args, emb, pool, topics, n)))
        return
    if args.phase:
        fn = {"serve": serve, "recall": recall, "sweep": sweep, "app": app_first_load}[args.phase]
        print(json.dumps(fn(args)))
        return
    if args.flat_limit is not None:
        from assistant.index import dense

        dense.FLAT_LIMIT = args.flat_limit
    work = Path(args.work)
    if not args.reuse:
        for sub in ("corpus", "index"):
            shutil.rmtree(work / sub, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    emb, pool, topics = make_embedder(work, Path(args.data), args.pool)
    emb.words_only = args.word_tokens
    res: dict = {"when": stamp, "command": "python -m benchmarks.bench_scale " + " ".join(sys.argv[1:]),
                 "vectors": "SYNTHETIC: real MiniLM embeddings of a pool of sentences plus noise; "
                            "articles drawn from topic groups of the pool (measures store and "
                            "query, not quality)",
                 "pool_sentences": len(pool), "topics": len(topics), "complete": False,
                 "machine": {"cores": os.cpu_count(), "load_average": os.getloadavg()}}

    def phase(name: str, fn) -> None:  # each result is saved as it comes (a long run may stop)
        res[name] = fn()
        print(json.dumps({name: res[name]}), flush=True)
        save(res, args.out)

    if not (args.reuse and (work / "index" / "CURRENT").exists()):
        phase("build", lambda: build_index(args, emb, pool, topics))
    current = (work / "index" / "CURRENT").read_text().strip()
    phase("disk", lambda: disk(work / "index" / "builds" / current))
    phase("serve", lambda: in_fresh_process(args, "serve"))
    phase("recall", lambda: in_fresh_process(args, "recall"))
    n_articles = len(list((work / "corpus").rglob("story-*.txt")))
    phase("update", lambda: update(args, emb, pool, topics, n_articles))
    if args.sweep:
        phase("sweep", lambda: in_fresh_process(args, "sweep"))
    if args.app:
        phase("app", lambda: in_fresh_process(args, "app"))
    res["machine"]["load_average_end"] = os.getloadavg()
    res["complete"] = True
    save(res, args.out)


def save(res: dict, name: str) -> None:
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"{name}.json").write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
