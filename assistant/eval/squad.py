"""Answers and abstention on SQuAD v2: every paragraph an article; the questions split into a
fitting half (the answer model and thresholds are fitted on it) and a reporting half."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from ..config import Settings
from ..records import Article, Section, content_id
from ..service import Assistant, make_embedder
from .batch import ask_many
from .common import contains_answer, ensure_index, half


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
                               sections=(Section((), " ".join(ctx.split())),),
                               sha256=content_id(ctx)))
    return out


def squad_features(path: Path, settings: Settings | None = None, embedder=None,
                   work_dir: Path | None = None, progress: bool | None = None) -> dict:
    """Answers and evidence features for every question of both SQuAD set-ups."""
    settings = settings or Settings()
    embedder = embedder or make_embedder(settings)
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
                                 "half": half(qa["id"])})
        full = Assistant.open(full_dir, settings, embedder=embedder)
        answers = ask_many(full, [r["question"] for r in rows], k=10)
        for r, a in zip(rows, answers):
            r["full"] = _summarize(a, r)
        half_index = Assistant.open(half_dir, settings, embedder=embedder)
        idx = [i for i, r in enumerate(rows) if not (r["article"] in in_corpus and r["impossible"])]
        answers = ask_many(half_index, [rows[i]["question"] for i in idx], k=10)
        for i, a in zip(idx, answers):
            rows[i]["ooc"] = _summarize(a, rows[i])
            rows[i]["ooc"]["should_answer"] = rows[i]["article"] in in_corpus
        return {"rows": rows, "articles": len(wiki), "paragraphs": sum(len(p) for _, p in wiki)}
    finally:
        if tmp is not None:
            tmp.cleanup()


def _summarize(answer, row) -> dict:
    chunk_sources = [p.source for p in answer.passages[:5]]
    paragraphs = list(dict.fromkeys(p.source for p in answer.passages))[:5]
    considered = answer.considered
    return {"features": answer.features, "confidence": answer.confidence,
            "gold_at5": row["gold"] in paragraphs, "gold_at5_chunks": row["gold"] in chunk_sources,
            "first_has_answer": bool(considered) and contains_answer(considered[0], row["answers"]),
            "any_has_answer": any(contains_answer(s, row["answers"]) for s in considered),
            "latency_ms": answer.timings_ms.get("total", 0.0)}


def squad_report(data: dict, coef: tuple[float, ...] | None = None) -> dict:
    """Figures of the answers issue: retrieval/answer quality on answerable questions, and
    abstention AUROC for out-of-corpus and in-paragraph questions, fitted on one half of the
    questions and reported on the other."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    # The answer model's features and shipped settings: what this fits and compares against.
    from ..answer.extractive import DEFAULT_ANSWER_SETTINGS, FEATURES

    rows = data["rows"]
    ans = [r for r in rows if not r["impossible"]]
    quality = {
        "questions": len(ans),
        # Paragraph-level, as for BEIR: the 5 best distinct paragraphs (chunks of one paragraph
        # count once); the top 5 chunks are reported too.
        "gold_paragraph_recall@5": float(np.mean([r["full"]["gold_at5"] for r in ans])),
        "gold_paragraph_in_top5_chunks": float(np.mean([r["full"]["gold_at5_chunks"]
                                                        for r in ans])),
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
            "latency_ms": {"p50": float(np.percentile(lat, 50)),
                           "p95": float(np.percentile(lat, 95))}}


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
