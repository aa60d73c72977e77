"""`assistant eval`: retrieval quality on BEIR folders and answer/abstention quality on SQuAD v2."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from .config import Settings
from .records import Article, Section, content_id

METRICS = ["ndcg@10", "recall@10", "recall@100", "mrr@10"]


def load_beir(beir_dir: Path, split: str = "test"):
    beir_dir = Path(beir_dir)
    docs = [json.loads(line) for line in open(beir_dir / "corpus.jsonl", encoding="utf-8")]
    queries = {q["_id"]: q["text"] for q in map(json.loads, open(beir_dir / "queries.jsonl", encoding="utf-8"))}
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
                           sections=(Section((), " ".join(text.split())),), sha256=content_id(text)))
    return out


def ensure_index(articles: list[Article], index_dir: Path, settings: Settings, embedder=None,
                 progress: bool | None = None):
    """Build an index of `articles` in index_dir unless one for the same articles is there."""
    from . import store
    from .embedding import resolve_precision
    from .indexing import build_articles

    from . import lexical

    sig = content_id(*(a.source + a.sha256 for a in articles), str(settings.chunk_tokens),
                     json.dumps(lexical.BM25_PARAMS, sort_keys=True), str(store.FORMAT_VERSION),
                     getattr(embedder, "precision", "fp32") if embedder
                     else resolve_precision(settings.precision))
    marker = Path(index_dir) / "EVAL_SIGNATURE"
    if store.current_name(index_dir) and marker.is_file() and marker.read_text() == sig:
        return
    build_articles(articles, settings.replace(index_dir=Path(index_dir)), embedder, progress)
    marker.write_text(sig)


def beir_run(retriever, qids, qvecs, qtoks, mode: str = "hybrid") -> dict[str, dict[str, float]]:
    """A ranx run: per query, the 100 best documents from 300 chunks (a document scores its best
    chunk)."""
    build = retriever.build
    doc_of = [build.articles[a]["source"] for a in build.chunk_article]
    run: dict[str, dict[str, float]] = {}
    for qid, qv, qt in zip(qids, qvecs, qtoks):
        per_doc: dict[str, float] = {}
        for row, fused, _, _ in retriever.search(qv, qt, k=300, mode=mode):
            per_doc.setdefault(doc_of[row], fused)  # ranked best first: first hit is the max
        run[qid] = dict(list(per_doc.items())[:100]) or {"__none__": 0.0}
    return run


def run_beir(beir_dir: Path, split: str = "test", settings: Settings | None = None,
             index_dir: Path | None = None, fusion=None, modes=("dense", "lexical", "hybrid"),
             embedder=None, progress: bool | None = None) -> dict:
    from ranx import Qrels, Run, evaluate

    from .embedding import Embedder
    from .retrieval import DEFAULT_FUSION, Retriever
    from .store import Build

    settings = settings or Settings()
    embedder = embedder or Embedder.from_settings(settings)
    docs, queries, qrels = load_beir(beir_dir, split)
    tmp = None
    if index_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="assistant-beir-")
        index_dir = Path(tmp.name)
    try:
        ensure_index(beir_articles(docs), Path(index_dir), settings, embedder, progress)
        build = Build(Path(index_dir), embedder.name, embedder.dim)
        fusion = fusion or DEFAULT_FUSION
        import dataclasses

        retriever = Retriever(build, dataclasses.replace(fusion, candidates=max(fusion.candidates, 300)))
        qids = list(queries)
        qvecs = embedder.encode_queries([queries[q] for q in qids])
        from . import lexical

        qtoks = lexical.tokenize([queries[q] for q in qids], query=True)
        results = {}
        for mode in modes:
            run = beir_run(retriever, qids, qvecs, qtoks, mode)
            scores = evaluate(Qrels(qrels), Run(run), METRICS, make_comparable=True)
            results[mode] = {m: float(v) for m, v in scores.items()}
        results["queries"] = len(qids)
        results["documents"] = len(docs)
        return results
    finally:
        if tmp is not None:
            tmp.cleanup()


# ---------------------------------------------------------------------------------- SQuAD v2

def load_squad(path: Path):
    """[(wiki title, [(paragraph text, [qa...])...])] from a SQuAD v2 json file."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    return [(a["title"].replace("_", " "), [(p["context"], p["qas"]) for p in a["paragraphs"]])
            for a in data]


def squad_articles(wiki, keep: set[int] | None = None) -> list[Article]:
    out = []
    for ai, (title, paras) in enumerate(wiki):
        if keep is not None and ai not in keep:
            continue
        for pi, (ctx, _) in enumerate(paras):
            source = f"{title}#p{pi:03d}"
            out.append(Article(id=content_id(source), title=title, source=source,
                               sections=(Section((), " ".join(ctx.split())),), sha256=content_id(ctx)))
    return out


def _half(qid: str) -> int:
    """A fixed split of the questions into a fitting half (0) and a reporting half (1)."""
    import hashlib

    return hashlib.sha256(qid.encode()).digest()[0] & 1


def _ask_all(assistant, questions: list[str], batch: int = 256):
    from .service import clean_question

    out = []
    for i in range(0, len(questions), batch):
        qs = [clean_question(q)[0] or q for q in questions[i:i + batch]]
        vecs = assistant.embedder.encode_queries(qs)
        loaded = assistant.current()
        for q, v in zip(qs, vecs):
            out.append(assistant.answer_with(q, v, q, v, k=10, loaded=loaded))
    return out


def _contains_answer(text: str, answers: list[str]) -> bool:
    t = " ".join(text.lower().split())
    return any(" ".join(a.lower().split()) in t for a in answers if a.strip())


def squad_features(path: Path, settings: Settings | None = None, embedder=None,
                   work_dir: Path | None = None, progress: bool | None = None) -> dict:
    """Answers and evidence features for every question of both SQuAD set-ups."""
    from .embedding import Embedder
    from .service import Assistant

    settings = settings or Settings()
    embedder = embedder or Embedder.from_settings(settings)
    wiki = load_squad(path)
    tmp = None
    if work_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="assistant-squad-")
        work_dir = Path(tmp.name)
    try:
        full_dir, half_dir = Path(work_dir) / "full", Path(work_dir) / "half"
        ensure_index(squad_articles(wiki), full_dir, settings, embedder, progress)
        in_corpus = set(range(0, len(wiki), 2))  # every other Wikipedia article is indexed
        ensure_index(squad_articles(wiki, in_corpus), half_dir, settings, embedder, progress)
        rows = []
        for ai, (title, paras) in enumerate(wiki):
            for pi, (_, qas) in enumerate(paras):
                for qa in qas:
                    rows.append({"id": qa["id"], "question": qa["question"], "article": ai,
                                 "gold": f"{title}#p{pi:03d}", "impossible": qa["is_impossible"],
                                 "answers": [a["text"] for a in qa["answers"]],
                                 "half": _half(qa["id"])})
        full = Assistant.open(full_dir, settings, embedder=embedder)
        answers = _ask_all(full, [r["question"] for r in rows])
        for r, a in zip(rows, answers):
            r["full"] = _summarize(a, r)
        half = Assistant.open(half_dir, settings, embedder=embedder)
        idx = [i for i, r in enumerate(rows) if not (r["article"] in in_corpus and r["impossible"])]
        answers = _ask_all(half, [rows[i]["question"] for i in idx])
        for i, a in zip(idx, answers):
            rows[i]["ooc"] = _summarize(a, rows[i])
            rows[i]["ooc"]["should_answer"] = rows[i]["article"] in in_corpus
        return {"rows": rows, "articles": len(wiki), "paragraphs": sum(len(p) for _, p in wiki)}
    finally:
        if tmp is not None:
            tmp.cleanup()


def recheck(answer, encode) -> list[str]:
    """Re-check a shown LLM answer from the outside: every sentence, with the passages its
    markers point to in the final citations, must pass the verifier. Returns the failures."""
    from . import verify

    if answer.mode != "llm":
        return []
    by_n = {c.n: c for c in answer.citations}
    failures = []
    for claim in verify.split_claims(answer.text):
        cited = [by_n[n] for n in claim.cited if n in by_n]
        if not cited or len(cited) != len(claim.cited):
            failures.append(f"{claim.text!r}: cites {claim.cited}, known {sorted(by_n)}")
            continue
        for c in cited:
            sup = verify.check(claim.text, c.passage, encode)
            if not sup.ok:
                failures.append(f"{claim.text!r} [{c.n}]: {sup.reason}")
    return failures


def squad_llm(path: Path, assistant, n: int = 50, seed: int = 0) -> dict:
    """The LLM reader on `n` questions of the reporting half (answerable and SQuAD's
    unanswerable alike), asked of `assistant` (an index of every paragraph): how often it
    answered, fell back (and why), held the gold answer, and whether every shown sentence
    passes the verifier when re-checked."""
    import random
    import time as _time

    wiki = load_squad(path)
    rows = []
    for ai, (title, paras) in enumerate(wiki):
        for pi, (_, qas) in enumerate(paras):
            for qa in qas:
                if _half(qa["id"]) == 1:
                    rows.append({"question": qa["question"], "impossible": qa["is_impossible"],
                                 "answers": [a["text"] for a in qa["answers"]]})
    rows = random.Random(seed).sample(rows, min(n, len(rows)))
    out = []
    for r in rows:
        t = _time.perf_counter()
        a = assistant.ask(r["question"], llm=True)
        out.append({**r, **llm_outcome(a, t, assistant.encode,
                                       None if r["impossible"] else r["answers"])})
    return {**llm_summary(out), "rows": out}


def llm_outcome(answer, started: float, encode, expected: list[str] | None = None) -> dict:
    """One question asked with the LLM reader: what was shown or why it fell back, what the
    verifier dropped, and whether the shown text passes an independent re-check."""
    import time as _time

    info = answer.llm or {}
    return {"question": answer.question, "mode": answer.mode, "tier": answer.tier,
            "fallback": info.get("fallback"), "dropped": info.get("dropped") or [],
            "answer": answer.text, "seconds": _time.perf_counter() - started,
            "recheck_failures": recheck(answer, encode),
            "has_expected": _contains_answer(answer.text, expected) if expected else None}


def llm_summary(rows: list[dict]) -> dict:
    """Counts over `llm_outcome` rows."""
    secs = [x["seconds"] for x in rows]
    checked = [x for x in rows if x["has_expected"] is not None]
    fallbacks: dict[str, int] = {}
    for x in rows:
        if x["fallback"]:
            fallbacks[x["fallback"]] = fallbacks.get(x["fallback"], 0) + 1
    return {
        "questions": len(rows), "answerable": len(checked),
        "llm_answers": sum(x["mode"] == "llm" for x in rows),
        "fallbacks": fallbacks,
        "sentences_dropped": sum(len(x["dropped"]) for x in rows),
        "shown_sentences_failing_recheck": sum(len(x["recheck_failures"]) for x in rows),
        "answer_has_expected": (float(np.mean([bool(x["has_expected"]) for x in checked]))
                                if checked else None),
        "latency_seconds": {"p50": float(np.percentile(secs, 50)) if secs else None,
                            "p95": float(np.percentile(secs, 95)) if secs else None},
    }


def _summarize(answer, row) -> dict:
    chunk_sources = [p.source for p in answer.passages[:5]]
    paragraphs = list(dict.fromkeys(p.source for p in answer.passages))[:5]
    considered = answer.considered
    return {"features": answer.features, "confidence": answer.confidence,
            "gold_at5": row["gold"] in paragraphs, "gold_at5_chunks": row["gold"] in chunk_sources,
            "first_has_answer": bool(considered) and _contains_answer(considered[0], row["answers"]),
            "any_has_answer": any(_contains_answer(s, row["answers"]) for s in considered),
            "latency_ms": answer.timings_ms.get("total", 0.0)}


def squad_report(data: dict, coef: tuple[float, ...] | None = None) -> dict:
    """Figures of the answers issue: retrieval/answer quality on answerable questions, and
    abstention AUROC for out-of-corpus and in-paragraph questions, fitted on one half of the
    questions and reported on the other."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from .answering import DEFAULT_ANSWER_SETTINGS, FEATURES

    rows = data["rows"]
    ans = [r for r in rows if not r["impossible"]]
    quality = {
        "questions": len(ans),
        # Paragraph-level, as for BEIR: the 5 best distinct paragraphs (chunks of one paragraph
        # count once); the top 5 chunks are reported too.
        "gold_paragraph_recall@5": float(np.mean([r["full"]["gold_at5"] for r in ans])),
        "gold_paragraph_in_top5_chunks": float(np.mean([r["full"]["gold_at5_chunks"] for r in ans])),
        "first_sentence_has_answer": float(np.mean([r["full"]["first_has_answer"] for r in ans])),
        "answer_has_answer": float(np.mean([r["full"]["any_has_answer"] for r in ans])),
    }

    def xy(items, key, label):
        x = np.array([[r[key]["features"].get(f, 0.0) for f in FEATURES] for r in items])
        y = np.array([label(r) for r in items], dtype=int)
        return x, y

    ooc = [r for r in rows if "ooc" in r]
    ooc_label = lambda r: int(r["ooc"]["should_answer"])  # noqa: E731
    inp_label = lambda r: int(not r["impossible"])  # noqa: E731
    fit_x, fit_y = [], []
    for items, key, label in ((ooc, "ooc", ooc_label), (rows, "full", inp_label)):
        x, y = xy([r for r in items if r["half"] == 0], key, label)
        fit_x.append(x)
        fit_y.append(y)
    model = LogisticRegression(C=10.0, max_iter=2000)
    model.fit(np.vstack(fit_x), np.concatenate(fit_y))
    fitted = (float(model.intercept_[0]), *map(float, model.coef_[0]))
    coef = coef or fitted

    def prob(x):
        z = coef[0] + x @ np.asarray(coef[1:])
        return 1 / (1 + np.exp(-z))

    # Threshold: chosen on the fitting half of the out-of-corpus set, the everyday case:
    # the highest that still answers >= 90% of answerable questions.
    x0, y0 = xy([r for r in ooc if r["half"] == 0], "ooc", ooc_label)
    p0 = prob(x0)
    threshold = float(np.quantile(p0[y0 == 1], 0.08)) if (y0 == 1).any() else 0.5
    x1, y1 = xy([r for r in ooc if r["half"] == 1], "ooc", ooc_label)
    p1 = prob(x1)
    out_of_corpus = {
        "auroc": float(roc_auc_score(y1, p1)),
        "answered_share": float(np.mean(p1[y1 == 1] >= threshold)),
        "abstained_share": float(np.mean(p1[y1 == 0] < threshold)),
        "questions": int(len(y1)),
    }
    x2, y2 = xy([r for r in rows if r["half"] == 1], "full", inp_label)
    p2 = prob(x2)
    in_paragraph = {"auroc": float(roc_auc_score(y2, p2)), "questions": int(len(y2)),
                    "answered_share": float(np.mean(p2[y2 == 1] >= threshold)),
                    "abstained_share": float(np.mean(p2[y2 == 0] < threshold))}
    # The "may answer" tier: its lower threshold balances the two promises on the fitting half,
    # answerable questions shown (answered or marked as possibly answering, target >= 0.97) and
    # out-of-corpus questions abstained on (target >= 0.90): the threshold with the largest
    # smaller margin over the two targets.
    possible = possible_threshold(p0[y0 == 1], p0[y0 == 0], threshold)

    def shares(p):
        p = np.asarray(p)
        return {"answer": float(np.mean(p >= threshold)),
                "possible": float(np.mean((p >= possible) & (p < threshold))),
                "abstain": float(np.mean(p < possible)), "questions": int(len(p))}

    x3, y3 = xy([r for r in rows if r["half"] == 1 and "ooc" in r and r["ooc"]["should_answer"]
                 and not r["impossible"]], "ooc", ooc_label)
    tiers = {"thresholds": {"answer": threshold, "possible": possible},
             "answerable": shares(prob(x3)),
             "out_of_corpus": shares(p1[y1 == 0]),
             "in_paragraph_unanswerable": shares(p2[y2 == 0]),
             "answerable_in_full_index": shares(p2[y2 == 1])}
    # The settings that ship, for comparison with the fitted ones (tests/test_tuned.py).
    shipped = DEFAULT_ANSWER_SETTINGS
    lat = [r["full"]["latency_ms"] for r in rows]
    return {"answerable": quality, "out_of_corpus": out_of_corpus, "in_paragraph": in_paragraph,
            "tiers": tiers,
            "fitted": {"coef": fitted, "threshold": threshold, "possible_threshold": possible,
                       "features": list(FEATURES)},
            "shipped": {"coef": list(shipped.coef), "threshold": shipped.threshold,
                        "possible_threshold": shipped.possible_threshold},
            "latency_ms": {"p50": float(np.percentile(lat, 50)), "p95": float(np.percentile(lat, 95))}}


def possible_threshold(answerable: np.ndarray, unanswerable: np.ndarray, ceiling: float,
                       shown_target: float = 0.97, abstain_target: float = 0.90) -> float:
    """The lower threshold of the "may answer" tier (at most `ceiling`, the answer threshold):
    among the scores seen, the one maximising min(shown share of answerable - shown_target,
    abstained share of unanswerable - abstain_target)."""
    answerable, unanswerable = np.sort(answerable), np.sort(unanswerable)
    if not len(answerable) or not len(unanswerable):
        return ceiling
    grid = np.unique(np.concatenate([answerable, unanswerable, [ceiling]]))
    grid = grid[grid <= ceiling]
    shown = 1.0 - np.searchsorted(answerable, grid, side="left") / len(answerable)
    abstained = np.searchsorted(unanswerable, grid, side="left") / len(unanswerable)
    margin = np.minimum(shown - shown_target, abstained - abstain_target)
    return float(grid[int(np.argmax(margin))])


# ---------------------------------------------------------------------------------- own questions

QUESTION_FIELDS = {"question": str, "source": str, "section": str, "answers": list,
                   "answerable": bool, "history": list}


def parse_question_file(path: Path) -> tuple[list[dict], list[str]]:
    """Questions from a JSON Lines file, and one message per malformed line (the rest count)."""
    items, problems = [], []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip() or line.lstrip().startswith("//"):
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"line {n}: not valid JSON ({exc.msg})")
                continue
            if not isinstance(obj, dict):
                problems.append(f"line {n}: expected a JSON object, got {type(obj).__name__}")
                continue
            q = obj.get("question")
            if not isinstance(q, str) or not q.strip():
                problems.append(f"line {n}: \"question\" must be a non-empty string")
                continue
            bad = [k for k, t in QUESTION_FIELDS.items() if k in obj and obj[k] is not None
                   and not isinstance(obj[k], t)]
            if bad:
                problems.append(f"line {n}: wrong type for {', '.join(bad)} "
                                f"(expected {', '.join(QUESTION_FIELDS[b].__name__ for b in bad)})")
                continue
            if any(not isinstance(a, str) for a in obj.get("answers") or []) or \
                    any(not isinstance(h, str) for h in obj.get("history") or []):
                problems.append(f"line {n}: \"answers\" and \"history\" must be lists of strings")
                continue
            unknown = set(obj) - set(QUESTION_FIELDS)
            if unknown:
                problems.append(f"line {n}: unknown field(s) {', '.join(sorted(unknown))} ignored")
            items.append({"line": n, "question": q, "source": obj.get("source"),
                          "section": obj.get("section"), "answers": obj.get("answers") or [],
                          "answerable": obj.get("answerable", True) is not False,
                          "history": obj.get("history") or []})
    return items, problems


def _section_matches(expected: str | None, section: str, heading_path: tuple[str, ...]) -> bool:
    if not expected:
        return True
    e = expected.strip().lower()
    names = {section.lower()} | {h.lower() for h in heading_path[-1:]}
    return e in names or section.lower().endswith(e)


def _first_hit(item: dict, ranked: list[tuple[str, str, tuple[str, ...]]]) -> int | None:
    for rank, (source, section, heading) in enumerate(ranked, start=1):
        if item["source"] and source != item["source"]:
            continue
        if _section_matches(item["section"], section, heading):
            return rank
    return None


def run_questions(path: Path, assistant, depth: int = 20, llm: bool | None = False) -> dict:
    """Ask every question of a question file and score citations, answers and abstention."""
    import time as _time

    items, problems = parse_question_file(path)
    results = []
    for item in items:
        t = _time.perf_counter()
        answer = assistant.ask(item["question"], history=item["history"], k=depth, llm=llm)
        latency = (_time.perf_counter() - t) * 1000
        ranked: list[tuple[str, str, tuple[str, ...]]] = []
        seen = set()
        for c in answer.citations:
            ranked.append((c.source, c.section, c.heading_path))
            seen.add(c.chunk_id)
        for p in answer.passages:
            if p.chunk.id not in seen:
                seen.add(p.chunk.id)
                ranked.append((p.source, p.section, p.chunk.heading_path))
        expects_place = bool(item["source"] or item["section"])
        hit = _first_hit(item, ranked) if (item["answerable"] and expects_place) else None
        results.append({
            "line": item["line"], "question": item["question"], "answerable": item["answerable"],
            "expected": " › ".join(x for x in (item["source"], item["section"]) if x),
            "has_expected_place": expects_place and item["answerable"], "rank": hit,
            "abstained": answer.abstained, "tier": answer.tier, "confidence": answer.confidence,
            "answer": answer.text, "mode": answer.mode,
            "fallback": (answer.llm or {}).get("fallback"),
            "cited": [f"[{c.n}] {c.source} › {c.section}" for c in answer.citations],
            "answer_ok": (any(a.lower() in answer.text.lower() for a in item["answers"])
                          if item["answers"] and item["answerable"] else None),
            "latency_ms": latency,
        })
    return summarize_questions(results, problems, assistant.answer_settings.threshold, depth)


def summarize_questions(results: list[dict], problems: list[str], threshold: float,
                        depth: int = 20) -> dict:
    placed = [r for r in results if r["has_expected_place"]]
    ranks = [r["rank"] for r in placed]

    def hit(k):
        return sum(1 for x in ranks if x is not None and x <= k) / len(ranks) if ranks else None

    answerable = [r for r in results if r["answerable"]]
    unanswerable = [r for r in results if not r["answerable"]]
    with_answers = [r for r in results if r["answer_ok"] is not None]
    lat = [r["latency_ms"] for r in results]
    return {
        "questions": len(results),
        "malformed": problems,
        "hit@1": hit(1), "hit@5": hit(5),
        "mrr": (sum(1 / x for x in ranks if x) / len(ranks)) if ranks else None,
        "recall_at_k": {k: hit(k) for k in range(1, depth + 1)} if ranks else {},
        "answer_contains_expected": (sum(r["answer_ok"] for r in with_answers) / len(with_answers)
                                     if with_answers else None),
        "answers_checked": len(with_answers),
        "unanswerable": len(unanswerable),
        "unanswerable_abstained": sum(r["abstained"] for r in unanswerable),
        "answerable": len(answerable),
        "answerable_wrongly_abstained": sum(r["abstained"] for r in answerable),
        # How each kind of question falls into the tiers (answer / may answer / no clear answer).
        "tiers": {kind: {t: sum(r.get("tier") == t for r in rs)
                         for t in ("answer", "possible", "abstain")}
                  for kind, rs in (("answerable", answerable), ("unanswerable", unanswerable))},
        "latency_ms": {"p50": float(np.percentile(lat, 50)) if lat else None,
                       "p95": float(np.percentile(lat, 95)) if lat else None},
        "threshold": threshold,
        "results": results,
    }


def write_question_report(summary: dict, out_dir: Path) -> Path:
    """report.md with the figures, every miss, and two PNG plots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    figs = []
    if summary["recall_at_k"]:
        ks = sorted(summary["recall_at_k"])
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(ks, [summary["recall_at_k"][k] for k in ks], marker="o")
        ax.set_xlabel("k (citations first, then retrieved passages)")
        ax.set_ylabel("share of questions")
        ax.set_title("Expected source and section within the top k")
        ax.set_ylim(0, 1.05)
        ax.set_xticks(ks)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out_dir / "recall_at_k.png", dpi=110)
        plt.close(fig)
        figs.append(("Recall@k", "recall_at_k.png"))
    res = summary["results"]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    bins = np.linspace(0, 1, 21)
    ax.hist([r["confidence"] for r in res if r["answerable"]], bins=bins, alpha=0.6,
            label="answerable")
    ax.hist([r["confidence"] for r in res if not r["answerable"]], bins=bins, alpha=0.6,
            label="unanswerable")
    ax.axvline(summary["threshold"], color="black", linestyle="--",
               label=f"abstention threshold {summary['threshold']:.2f}")
    ax.set_xlabel("confidence")
    ax.set_ylabel("questions")
    ax.set_title("Confidence: answerable vs unanswerable")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "confidence.png", dpi=110)
    plt.close(fig)
    figs.append(("Confidence", "confidence.png"))

    def fmt(x):
        return "n/a" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x))

    s = summary
    lines = ["# Question set report", "",
             "| figure | value |", "|---|---|",
             f"| questions | {s['questions']} |",
             f"| hit@1 (expected source/section) | {fmt(s['hit@1'])} |",
             f"| hit@5 | {fmt(s['hit@5'])} |",
             f"| MRR | {fmt(s['mrr'])} |",
             f"| answer contains an expected answer | {fmt(s['answer_contains_expected'])} "
             f"(of {s['answers_checked']}) |",
             f"| unanswerable questions abstained | {s['unanswerable_abstained']} of {s['unanswerable']} |",
             f"| answerable questions wrongly abstained | {s['answerable_wrongly_abstained']} of {s['answerable']} |",
             f"| latency p50 / p95 | {fmt(s['latency_ms']['p50'])} / {fmt(s['latency_ms']['p95'])} ms |",
             ""]
    if s["malformed"]:
        lines += ["## Malformed lines", ""] + [f"- {p}" for p in s["malformed"]] + [""]
    misses = [r for r in res if (r["has_expected_place"] and (r["rank"] is None or r["rank"] > 1))
              or (not r["answerable"] and not r["abstained"])
              or (r["answerable"] and r["abstained"]) or r["answer_ok"] is False]
    lines += ["## Misses", ""]
    if misses:
        lines += ["| line | question | expected | rank | what was cited |", "|---|---|---|---|---|"]
        for r in misses:
            expected = r["expected"] or ("(abstain)" if not r["answerable"] else "")
            cited = "; ".join(r["cited"]) or ("abstained" if r["abstained"] else "")
            lines.append(f"| {r['line']} | {_md_cell(r['question'])} | {_md_cell(expected)} | "
                         f"{r['rank'] or '-'} | {_md_cell(cited)} |")
    else:
        lines.append("None.")
    lines.append("")
    for title, name in figs:
        lines += [f"## {title}", "", f"![{title}]({name})", ""]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _md_cell(text: str) -> str:
    import html

    return html.escape(text).replace("|", "\\|").replace("\n", " ")[:300]
