"""Extractive answers: sentences copied verbatim from retrieved passages, each with its citation,
or an abstention when the evidence is weak. No language model, so nothing can be invented."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..index import lexical
from ..records import Answer, Citation, Passage
from ..text import tokenize

_NUMBER_WORDS = r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|" \
    r"forty|fifty|hundred|hundreds|thousand|thousands|million|millions|billion|billions|dozen|half"
_MONTHS = r"january|february|march|april|may|june|july|august|september|october|november|december"
_RE_NUMBER = re.compile(rf"\d|\b({_NUMBER_WORDS})\b", re.I)
_RE_DATE = re.compile(rf"\b(1\d{{3}}|20\d{{2}})s?\b|\b({_MONTHS})\b|\bcentur(y|ies)\b"
                      rf"|\b\d+(st|nd|rd|th)\b",
                      re.I)
_RE_CAPITAL = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z'’.-]+")


def answer_type(question: str) -> str | None:
    """What kind of thing the question asks for, when it asks for a specific kind."""
    q = question.strip().lower()
    if re.match(r"^(how (many|much|long|far|old|big|large|tall|often|high|fast|heavy))|"
                r"^(what|which) (percentage|percent|number|amount|proportion|fraction)", q) or \
            re.search(r"\bhow (many|much)\b", q):
        return "number"
    if re.match(r"^(when|(in |during |by )?(what|which) "
                r"(year|date|month|decade|century|day|period|time))",
                q) or re.search(r"\bwhat year\b|\bwhen did\b|\bwhen was\b|\bwhen were\b", q):
        return "date"
    if re.match(r"^(who|whom|whose)\b", q) or re.search(r"\b(who|whom)\b", q):
        return "person"
    if re.match(r"^where\b", q):
        return "place"
    return None


def has_type(sentence: str, kind: str | None, question: str = "") -> bool:
    if kind is None:
        return True
    if kind == "number":
        return bool(_RE_NUMBER.search(sentence))
    if kind == "date":
        return bool(_RE_DATE.search(sentence))
    # person / place: a capitalized name that the question does not already contain
    qwords = {w.lower() for w in re.findall(r"[A-Za-z'’.-]+", question)}
    return any(m.group(0).lower() not in qwords for m in _RE_CAPITAL.finditer(sentence))


@dataclass(frozen=True)
class AnswerSettings:
    """Weights for choosing sentences and for the abstention model. The abstention weights are
    fitted on the fitting half of SQuAD v2 by `assistant eval squad` (benchmarks/bench_quality.py,
    "fitted" in results/squad.json) and the threshold chosen there."""

    max_sentences: int = 3
    passages_considered: int = 4
    # Sentence choice, tuned on the fitting half of SQuAD v2 dev-half (benchmarks/tune_sentences.py)
    w_dense: float = 1.0
    w_overlap: float = 0.6
    w_prev: float = 0.8  # question words covered by the sentence and the one before it
    w_window: float = 0.0  # ... by the sentence and both neighbours
    w_passage: float = 0.2
    w_type: float = 0.1
    # A further sentence must score at least this share of the best (tuned on the fitting half).
    keep_ratio: float = 0.7
    duplicate_cos: float = 0.9
    # Logistic abstention model over `features()`: intercept first.
    coef: tuple[float, ...] = (-6.131, 0.219, 5.564, 1.465, 1.153, -0.825, 0.671, 0.398)
    threshold: float = 0.2463  # at or above: a confident answer
    # At or above (and below `threshold`): the best sentences, marked as possibly answering.
    # Below: no clear answer, the closest passages are listed. Chosen on the fitting half by
    # assistant.eval.squad.possible_threshold (results/squad.json "fitted"; tests/test_tuned.py
    # checks).
    possible_threshold: float = 0.1381


DEFAULT_ANSWER_SETTINGS = AnswerSettings()

FEATURES = ("top_dense", "best_sentence_dense", "best_sentence_overlap", "type_found",
            "unknown_terms", "passage_overlap", "rarest_missing")


@dataclass(kw_only=True)
class Candidate:
    passage_rank: int
    passage: Passage
    start: int
    end: int
    text: str
    dense: float
    overlap: float
    typed: bool
    score: float
    vector: np.ndarray
    with_prev: float = 0.0
    window: float = 0.0
    passage_share: float = 0.0


def _coverage(q_terms: dict[str, float], tokens: set[str]) -> float:
    total = sum(q_terms.values())
    if total <= 0:
        return 0.0
    return sum(w for t, w in q_terms.items() if t in tokens) / total


def question_terms(question: str, idf: lexical.Idf) -> tuple[dict[str, float], float]:
    """Stemmed content words of the question with idf weights, and the share of idf mass of
    words the corpus never uses (a strong sign the question is off-corpus)."""
    toks = tokenize([question], query=True)[0]
    max_idf = idf.max
    weights = {}
    unknown = 0.0
    for t in toks:
        w = idf.get(t)
        if w is None:
            weights[t] = max_idf
            unknown += max_idf
        else:
            weights[t] = w
    total = sum(weights.values())
    return weights, (unknown / total if total else 0.0)


def candidates(question: str, qvec: np.ndarray, passages: list[Passage],
               sentence_vectors: Sequence[np.ndarray], idf: lexical.Idf,
               s: AnswerSettings = DEFAULT_ANSWER_SETTINGS) -> tuple[list[Candidate], dict]:
    """The sentences of the top passages as candidates; `sentence_vectors[i]` holds passage i's
    sentence vectors (`Snapshot.sentence_vectors_of`)."""
    q_terms, unknown = question_terms(question, idf)
    kind = answer_type(question)
    top = passages[: s.passages_considered]
    if not top:
        return [], {"top_dense": 0.0, "unknown_terms": unknown}
    best_fused = max(p.score for p in top) or 1.0
    # Every sentence of the passages considered, with its neighbours' words: a sentence that
    # answers often names its subject only in the sentence before ("She ...").
    texts, metas = [], []
    for rank, (p, vecs) in enumerate(zip(top, sentence_vectors)):
        for k, ((a, b), vec) in enumerate(zip(p.chunk.sentences, vecs)):
            texts.append(p.chunk.text[a - p.chunk.start: b - p.chunk.start])
            metas.append((rank, p, k, a, b, vec))
    token_sets = [set(t) for t in tokenize(texts)] if texts else []
    out = []
    seen = set()
    for i, (text, toks, (rank, p, k, a, b, vec)) in enumerate(zip(texts, token_sets, metas)):
        key = (p.chunk.article_id, p.chunk.section_index, a)
        if key in seen:  # the overlap sentence of two neighbouring chunks
            continue
        seen.add(key)
        prev = token_sets[i - 1] if k > 0 else set()
        nxt = token_sets[i + 1] if k + 1 < len(p.chunk.sentences) else set()
        dense = float(vec @ qvec)
        overlap = _coverage(q_terms, toks)
        with_prev = _coverage(q_terms, toks | prev)
        window = _coverage(q_terms, toks | prev | nxt)
        typed = has_type(text, kind, question)
        score = (s.w_dense * dense + s.w_overlap * overlap + s.w_passage * (p.score / best_fused)
                 + s.w_prev * with_prev + s.w_window * window
                 + (s.w_type if (kind and typed) else 0.0))
        out.append(Candidate(passage_rank=rank, passage=p, start=a, end=b, text=text,
                             dense=dense, overlap=overlap, typed=typed, score=score, vector=vec,
                             with_prev=with_prev, window=window,
                             passage_share=p.score / best_fused))
    out.sort(key=lambda c: -c.score)
    top_tokens = set(tokenize([top[0].chunk.text])[0]) | \
        set(tokenize([top[0].article_title, *top[0].chunk.heading_path])[0])
    max_idf = max(q_terms.values(), default=1.0) or 1.0
    missing = [w for t, w in q_terms.items() if t not in top_tokens]
    feats = {
        "top_dense": max(p.dense for p in top),
        "best_sentence_dense": max((c.dense for c in out), default=0.0),
        "best_sentence_overlap": out[0].overlap if out else 0.0,
        "type_found": 1.0 if (kind is None
                              or any(c.typed and c.overlap > 0 for c in out[:5])) else 0.0,
        "unknown_terms": unknown,
        # How much of the question the best passage covers, and the rarest word it lacks
        # (relative to the rarest word of the question): questions about something else.
        "passage_overlap": _coverage(q_terms, top_tokens),
        "rarest_missing": (max(missing) / max_idf) if missing else 0.0,
    }
    return out, feats


# What an abstention says. It never claims the articles lack the answer: retrieval and the
# sentence scorer can miss a paraphrase, so all that is known is that no passage clearly answers.
NO_CLEAR_ANSWER = ("No passage clearly answers this question. The closest passages are listed "
                   "below: the answer may still be in them or elsewhere in the articles.")
POSSIBLE_LABEL = "This may answer your question (low confidence): check the cited passage."


def tier_of(conf: float, s: AnswerSettings) -> str:
    if conf >= s.threshold:
        return "answer"
    if conf >= s.possible_threshold:
        return "possible"
    return "abstain"


def confidence(feats: dict, s: AnswerSettings = DEFAULT_ANSWER_SETTINGS) -> float:
    z = s.coef[0] + sum(w * float(feats.get(name, 0.0)) for w, name in zip(s.coef[1:], FEATURES))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def select(cands: list[Candidate], s: AnswerSettings = DEFAULT_ANSWER_SETTINGS) -> list[Candidate]:
    if not cands:
        return []
    chosen = [cands[0]]
    for c in cands[1:]:
        if len(chosen) >= s.max_sentences:
            break
        if c.score < s.keep_ratio * cands[0].score:
            break
        if any(float(c.vector @ x.vector) > s.duplicate_cos or _jaccard(c.text, x.text) > 0.6
               for x in chosen):
            continue
        chosen.append(c)
    # The best sentence leads; the others follow in reading order (passage rank, position).
    return chosen[:1] + sorted(chosen[1:], key=lambda c: (c.passage_rank, c.start))


def _jaccard(a: str, b: str) -> float:
    x, y = set(a.lower().split()), set(b.lower().split())
    return len(x & y) / max(1, len(x | y))


def compose(question: str, chosen: list[Candidate], passages: list[Passage], conf: float,
            s: AnswerSettings = DEFAULT_ANSWER_SETTINGS, timings: dict | None = None,
            build_id: str = "", notice: str = "", features: dict | None = None) -> Answer:
    considered = tuple(c.text for c in chosen)
    features = features or {}
    tier = tier_of(conf, s) if chosen else "abstain"
    if tier == "abstain":
        return Answer(question=question, text=NO_CLEAR_ANSWER, citations=(), abstained=True,
                      confidence=conf, passages=tuple(passages), timings_ms=timings or {},
                      build_id=build_id, notice=notice, features=features, considered=considered,
                      tier="abstain")
    citations = []
    parts = []
    for n, c in enumerate(chosen, start=1):
        shift = c.passage.chunk.start  # candidates are placed in section offsets
        citations.append(Citation.quoting(n, c.passage, c.start - shift, c.end - shift, c.score))
        parts.append(f"{c.text} [{n}]")
    return Answer(question=question, text=" ".join(parts), citations=tuple(citations),
                  abstained=False, confidence=conf, passages=tuple(passages),
                  timings_ms=timings or {}, build_id=build_id, notice=notice, features=features,
                  considered=considered, tier=tier)
