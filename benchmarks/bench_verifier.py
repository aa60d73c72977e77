"""The verifier of the LLM reader (assistant/answer/verify/) on sentences made from SQuAD v2 dev-half:
does it show supported sentences and hold back unsupported ones?

    .venv/bin/python -m benchmarks.bench_verifier [--data ../shared/data]

Examples (one sentence cited to one paragraph, verified as "<sentence> [1]" by verify.verify):
- supported: a sentence of a paragraph that holds the answer to one of its questions (at most two
  per paragraph), lightly paraphrased by deterministic rules (synonyms from a small table, an
  opening phrase moved to the end or a closing one to the front, a parenthesis, a ", which ...,"
  clause or the second half of ", and" dropped, "X was built by Y" -> "Y built X", contractions),
  cited to its own paragraph;
- unsupported, the kinds the bar counts:
  swap            one number, year, month or capitalised name of the paraphrase replaced by one
                  of the same kind from another paragraph of the same article (a replacement that
                  also occurs in the gold paragraph is not used);
  wrong_same_near the paraphrase cited to the paragraph of the same article whose best span is
                  closest in meaning to it (the hard case: a mix-up among retrieved passages);
  wrong_same_any  ... to another paragraph of the same article, chosen at random;
  wrong_other     ... to the closest paragraph of another article (same half);
- reported apart, not in the bar: swap_in_passage, a figure or name replaced by one from
  another sentence of the same paragraph (the verifier's figure rule catches these only when
  figures_in_span is on; names are checked against the whole passage).

Halves: by article, with the project's hash (`assistant.eval.half`) applied to the
article title, so no paragraph is in both halves (the project splits *questions* by `half(id)`,
which would put sentences of one paragraph, even the same sentence, in both). Thresholds
(min_similarity, min_overlap, figures_in_span) are chosen on the fitting half (0): the highest
recall of "shown" with precision >= 0.985; among the settings tied there, figures_in_span on if
any, then the middle of the tied region (median similarity threshold, then median overlap
threshold at it). They are copied by hand into verify.VerifySettings (a test checks that they
match). The reporting half (1) is then verified once, with the chosen thresholds, through
verify.verify itself. Also reported, not in the bar: recall on heavier paraphrases (every rule
that applies, up to four synonyms). Writes benchmarks/results/verifier.json. `--cache FILE`
keeps the sentence vectors between runs while developing; a clean run does without it.
"""

from __future__ import annotations

import hashlib
import random
import re
import sys
import time
from collections import Counter
from functools import lru_cache

import numpy as np

from benchmarks.common import data_path, parser, save_result

KINDS = ("swap", "wrong_same_near", "wrong_same_any", "wrong_other")
EXTRA = ("swap_in_passage",)
TARGET_PRECISION = 0.985  # on the fitting half; the bar is 0.97 on the reporting half
SIM_GRID = np.round(np.arange(0.20, 0.901, 0.01), 2)
OVERLAP_GRID = np.round(np.arange(0.0, 1.001, 0.05), 2)


def _rng(*parts) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode())
                                        .digest()[:8], "little"))


# ------------------------------------------------------------------------------- paraphrase

SYNONYMS = {
    "began": "started", "begin": "start", "begins": "starts", "started": "began",
    "large": "big", "largest": "biggest", "big": "large", "important": "significant",
    "significant": "important", "called": "named", "named": "called", "built": "constructed",
    "constructed": "built", "received": "obtained", "because": "since", "although": "though",
    "several": "a number of", "many": "numerous", "numerous": "many", "often": "frequently",
    "frequently": "often", "usually": "typically", "typically": "usually",
    "approximately": "roughly", "died": "passed away", "helped": "assisted", "help": "assist",
    "allowed": "permitted", "allow": "permit", "area": "region", "areas": "regions",
    "country": "nation", "countries": "nations", "famous": "well-known", "showed": "demonstrated",
    "shows": "demonstrates", "established": "founded", "founded": "established",
    "including": "such as", "due to": "because of", "in order to": "to", "despite": "in spite of",
    "required": "needed", "requires": "needs", "attempted": "tried", "purchased": "bought",
    "completed": "finished", "ancient": "old", "modern": "contemporary", "main": "principal",
    "primary": "main", "remained": "stayed", "produced": "made", "obtain": "get",
    "increased": "rose", "decreased": "fell", "whole": "entire", "entire": "whole",
    "very": "highly", "quickly": "rapidly", "rapidly": "quickly", "difficult": "hard",
    "similar": "alike", "various": "different", "additional": "extra", "former": "previous",
    "majority": "most", "result": "outcome", "example": "instance", "considered": "regarded as",
}
CONTRACTIONS = {"did not": "didn't", "was not": "wasn't", "were not": "weren't",
                "is not": "isn't", "are not": "aren't", "do not": "don't", "does not": "doesn't",
                "could not": "couldn't", "would not": "wouldn't", "cannot": "can't",
                "has not": "hasn't", "have not": "haven't", "had not": "hadn't", "it is": "it's"}
_FRONT = re.compile(r"^(In|On|During|After|Before|By|From|Since|At|Following|Under|Throughout|"
                    r"Between|Until|Within|Despite)\s([^,]{2,60}),\s(.+?)([.!?])$")
_BACK = re.compile(r"^(.{20,}?)\s(in|on|during|after|before|until|since)\s"
                   r"((?:the\s)?(?:\d{3,4}s?|[A-Z][\w-]+(?:\s[A-Z0-9][\w-]*){0,2}))([.!?])$")
_PASSIVE = re.compile(r"^((?:The|A|An|This|These|Its|His|Her|Their)\s[^,]{2,50}?)\s(?:was|were)\s"
                      r"(\w+ed)\sby\s([^,.;()]{2,50})([.!?])$")


def _lower_first(text: str) -> str:
    from assistant.answer.verify import _function_words

    first = text.split(" ", 1)[0]
    return text[0].lower() + text[1:] if first.lower() in _function_words() else text


def _upper_first(text: str) -> str:
    return text[0].upper() + text[1:] if text else text


def paraphrase(sentence: str, key: str, heavy: bool = False) -> tuple[str, list[str]]:
    """A light, meaning-keeping rewrite and the names of the rules used. `heavy`: every rule
    that applies and up to four synonyms (a stress test, not used to choose thresholds)."""
    rng = _rng("para", key)
    rules = []
    s = sentence

    def apply(name, fn):
        nonlocal s
        out = fn(s)
        if out and out != s:
            s = out
            rules.append(name)

    def drop_paren(t):
        return re.sub(r"\s?\([^()]{1,80}\)", "", t, count=1)

    def drop_which(t):
        return re.sub(r",\s(?:which|who)\s[^,]{3,80},", "", t, count=1)

    def drop_and(t):
        m = re.match(r"^(.+?),\s(?:and|but)\s(.+?)([.!?])$", t)
        # The first part without a comma: "A, B, and C" is a list, not two clauses.
        if m and "," not in m.group(1) and len(m.group(1).split()) >= 6 \
                and len(m.group(2).split()) >= 4:
            return m.group(1) + m.group(3)
        return None

    def front_to_back(t):
        m = _FRONT.match(t)
        if not m or not re.search(r"\d|[A-Z]|^the ", m.group(2)):
            return None
        return f"{_upper_first(m.group(3))} {m.group(1).lower()} {m.group(2)}{m.group(4)}"

    def back_to_front(t):
        m = _BACK.match(t)
        if not m or "," in m.group(1)[-25:]:
            return None
        return f"{_upper_first(m.group(2))} {m.group(3)}, {_lower_first(m.group(1))}{m.group(4)}"

    def passive(t):
        m = _PASSIVE.match(t)
        if not m:
            return None
        return f"{_upper_first(m.group(3))} {m.group(2)} {_lower_first(m.group(1))}{m.group(4)}"

    def contract(t):
        for a, b in CONTRACTIONS.items():
            t2 = re.sub(rf"\b{a}\b", b, t)
            if t2 != t:
                return t2
        return None

    def drop_opener(t):
        m = re.match(r"^(However|Moreover|Furthermore|In addition|Additionally|Nevertheless|"
                     r"Thus|Therefore|Also|Consequently),\s(.+)$", t)
        return _upper_first(m.group(2)) if m else None

    def synonyms(t):
        # Lowercase words only (and the first word): a capitalised one may be part of a name
        # ("Low Countries"), and a hyphenated one of a compound ("Isuzu-built").
        def pattern(w):
            return rf"(?:^|(?<=[\s(\"]))(?:{w}|{w.capitalize()})(?=[\s,;:.)\"]|$)"

        words = [w for w in SYNONYMS if re.search(pattern(w), t)]
        words = [w for w in words if not any(m.start() > 0 and m.group(0)[0].isupper()
                                             for m in re.finditer(pattern(w), t))]
        rng.shuffle(words)
        for w in words[:4 if heavy else 2]:
            def repl(m, w=w):
                out = SYNONYMS[w]
                return _upper_first(out) if m.group(0)[0].isupper() else out
            t = re.sub(pattern(w), repl, t, count=1)
        return t

    steps = [("drop_parenthesis", drop_paren), ("drop_which_clause", drop_which),
             ("drop_second_clause", drop_and), ("drop_opener", drop_opener),
             ("front_to_back", front_to_back), ("back_to_front", back_to_front),
             ("passive_to_active", passive), ("contraction", contract), ("synonyms", synonyms)]
    applicable = [(n, f) for n, f in steps if (f(s) or s) != s]
    chosen = [(n, f) for n, f in applicable if heavy or rng.random() < 0.6]
    if applicable and not chosen:
        chosen = [rng.choice(applicable)]
    for name, fn in steps:  # a fixed order, so that one rule does not undo another
        if (name, fn) in chosen:
            apply(name, fn)
    return s, rules


# ------------------------------------------------------------------------------- swaps

_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")
_NUMBER = re.compile(r"(?<![\w.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w,])"
                     r"|(?<![\w.,])\d+(?:\.\d+)?(?![\w,])")
_MONTH = re.compile(r"\b(January|February|March|April|May|June|July|August|September|October|"
                    r"November|December)\b")
_NAME = re.compile(r"(?<=[a-z,;:()] )[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*\b")


def facts(text: str) -> list[tuple[str, str]]:
    """(kind, text) of the figures and names a swap can replace."""
    out = [("year", m.group(0)) for m in _YEAR.finditer(text)]
    years = {y for _, y in out}
    out += [("number", m.group(0)) for m in _NUMBER.finditer(text) if m.group(0) not in years]
    out += [("month", m.group(0)) for m in _MONTH.finditer(text)]
    months = {m for k, m in out if k == "month"}
    from assistant.answer.verify import _function_words

    stop = _function_words()
    out += [("name", m.group(0)) for m in _NAME.finditer(text)
            if m.group(0) not in months and m.group(0).lower() not in stop]
    return out


@lru_cache(maxsize=4096)
def _digits(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"\d+(?:\.\d+)?", text.replace(",", "")))


@lru_cache(maxsize=4096)
def _words(text: str) -> frozenset[str]:
    words = re.findall(r"[a-z0-9]+", text.lower().replace(",", ""))
    return frozenset(re.sub(r"(?:'s|s)$", "", w) for w in words)


def occurs(value: str, kind: str, text: str) -> bool:
    """Independent of the verifier's own matching: digits without separators, or every word of
    a name (plural and possessive s off) among the text's words."""
    if kind in ("year", "number"):
        return value.replace(",", "") in _digits(text)
    return _words(value) <= _words(text)


def _replace(sentence: str, kind: str, value: str, new: str) -> str | None:
    if kind in ("year", "number"):
        pattern = rf"(?<![\w.,]){re.escape(value)}(?!,?\d|\.\d|\w)"
    else:
        pattern = rf"\b{re.escape(value)}\b"
    out = re.sub(pattern, lambda _: new, sentence, count=1)
    return out if out != sentence else None


def _swap(sentence: str, pool_facts: list[tuple[str, str]], avoid: str, key: str,
          salt: str) -> tuple[str, str] | None:
    rng = _rng(salt, key)
    own = facts(sentence)
    rng.shuffle(own)
    for kind, value in own:
        pool = sorted({v for k, v in pool_facts if k == kind and v != value})
        pool = [v for v in pool if not occurs(v, kind, avoid)]
        rng.shuffle(pool)
        for new in pool[:5]:
            out = _replace(sentence, kind, value, new)
            if out:
                return out, kind
    return None


def swap(sentence: str, donors: list[tuple[str, str]], gold: str,
         key: str) -> tuple[str, str] | None:
    """A fact replaced by one of the same kind from another paragraph of the article that does
    not occur in the gold paragraph (nor in the sentence)."""
    return _swap(sentence, donors, gold + " " + sentence, key, "swap")


def swap_in_passage(sentence: str, others: str, key: str) -> tuple[str, str] | None:
    """A fact replaced by one of the same kind that occurs elsewhere in the same paragraph."""
    return _swap(sentence, facts(others), sentence, key, "swapin")


# ------------------------------------------------------------------------------- data

def build_examples(wiki) -> tuple[list[dict], list[dict], dict]:
    """Paragraphs (with their sentence spans and candidate spans) and the examples."""
    from assistant.answer.verify import candidate_spans, split_claims
    from assistant.chunking import sentence_spans
    from assistant.eval import half

    paras = []
    for ai, (title, items) in enumerate(wiki):
        for pi, (ctx, qas) in enumerate(items):
            text = " ".join(ctx.split())
            sents = sentence_spans(text)
            answers = [" ".join(a["text"].split()) for qa in qas if not qa["is_impossible"]
                       for a in qa["answers"]]
            paras.append({"article": ai, "title": title, "para": pi, "text": text,
                          "sents": sents, "spans": candidate_spans(text, sents),
                          "half": half(title), "answers": answers})
    by_article: dict[int, list[int]] = {}
    for i, p in enumerate(paras):
        by_article.setdefault(p["article"], []).append(i)
    examples = []
    stats = Counter()
    para_facts = [sorted(set(facts(p["text"]))) for p in paras]
    for i, p in enumerate(paras):
        text = p["text"]
        # Sentences that hold an answer and that the verifier also reads as one sentence (a
        # sentence it splits in two would be judged by its parts).
        with_answer = [(a, b) for a, b in p["sents"]
                       if any(ans and ans in text[a:b] for ans in p["answers"])
                       and 6 <= len(text[a:b].split()) <= 60
                       and len(split_claims(text[a:b] + " [1]")) == 1]
        rng = _rng("pick", p["title"], p["para"])
        rng.shuffle(with_answer)
        siblings = [j for j in by_article[p["article"]] if j != i]
        donors = [f for j in siblings for f in para_facts[j]]
        for a, b in sorted(with_answer[:2]):
            sent = text[a:b]
            key = f"{p['title']}|{p['para']}|{a}"
            para_text, rules = paraphrase(sent, key)
            stats["sentences"] += 1
            stats["paraphrased"] += bool(rules)
            for r in rules:
                stats[f"rule:{r}"] += 1
            base = {"half": p["half"], "article": p["article"], "key": key, "source": sent}
            examples.append({**base, "kind": "supported", "claim": para_text, "passage": i})
            heavy, _ = paraphrase(sent, key, heavy=True)
            examples.append({**base, "kind": "supported_heavy", "claim": heavy, "passage": i})
            if len(split_claims(para_text + " [1]")) != 1:
                stats["paraphrase_split_in_two"] += 1
            swapped = swap(para_text, donors, text, key)
            if swapped:
                examples.append({**base, "kind": "swap", "claim": swapped[0], "passage": i,
                                 "fact": swapped[1]})
            else:
                stats["no_swap_possible"] += 1
            others = text[:a] + " " + text[b:]
            inside = swap_in_passage(para_text, others, key)
            if inside:
                examples.append({**base, "kind": "swap_in_passage", "claim": inside[0],
                                 "passage": i, "fact": inside[1]})
            if siblings:
                examples.append({**base, "kind": "wrong_same_any", "claim": para_text,
                                 "passage": _rng("any", key).choice(siblings)})
                examples.append({**base, "kind": "wrong_same_near", "claim": para_text,
                                 "passage": None})
            examples.append({**base, "kind": "wrong_other", "claim": para_text, "passage": None})
    return paras, examples, dict(stats)


class CachedEncoder:
    """encode() with a memory of every text it has seen: the benchmark encodes all texts once in
    big batches, and verify()'s own calls are then look-ups. `--cache FILE` keeps the memory
    between runs (for development; a clean run does not use it)."""

    def __init__(self, embedder, path: str | None = None):
        self.embedder = embedder
        self.cache: dict[str, np.ndarray] = {}
        self.model_texts = 0
        self.path = path
        if path:
            import os
            import pickle

            if os.path.exists(path):
                with open(path, "rb") as fh:
                    key, cache = pickle.load(fh)
                if key == (embedder.name, embedder.precision):
                    self.cache = cache

    def save(self) -> None:
        if self.path:
            import pickle

            with open(self.path, "wb") as fh:
                pickle.dump(((self.embedder.name, self.embedder.precision), self.cache), fh)

    def warm(self, texts) -> None:
        new = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if new:
            vecs = self.embedder.encode_queries(new)
            self.model_texts += len(new)
            self.cache.update(zip(new, vecs))

    def __call__(self, texts):
        self.warm(texts)
        return np.stack([self.cache[t] for t in texts]) if texts else \
            np.zeros((0, self.embedder.dim), np.float32)


def nearest_wrong(examples, paras, enc) -> None:
    """Fill in the wrong passage of the "near" kinds: the paragraph (other than the gold one)
    whose best span is closest to the claim, of the same article or of another article of the
    same half."""
    span_rows, owner = [], []
    for i, p in enumerate(paras):
        for a, b in p["spans"]:
            span_rows.append(p["text"][a:b])
            owner.append(i)
    owner = np.array(owner)
    S = np.stack([enc.cache[t] for t in span_rows])
    para_article = np.array([p["article"] for p in paras])
    para_half = np.array([p["half"] for p in paras])
    todo = [e for e in examples if e["passage"] is None]
    claims = sorted({e["claim"] for e in todo})
    C = np.stack([enc.cache[c] for c in claims])
    sims = C @ S.T
    best = np.full((len(claims), len(paras)), -np.inf, dtype=np.float32)
    for i in range(len(paras)):
        cols = np.nonzero(owner == i)[0]
        best[:, i] = sims[:, cols].max(1)
    row = {c: k for k, c in enumerate(claims)}
    gold = {e["key"]: e for e in examples if e["kind"] == "supported"}
    for e in todo:
        g = gold[e["key"]]["passage"]
        scores = best[row[e["claim"]]].copy()
        scores[g] = -np.inf
        same = para_article == e["article"]
        if e["kind"] == "wrong_same_near":
            scores[~same] = -np.inf
        else:
            scores[same | (para_half != e["half"])] = -np.inf
        e["passage"] = int(np.argmax(scores))


# ------------------------------------------------------------------------------- scoring

def features(examples, paras, enc) -> None:
    """Per example and figures_in_span setting: the figure/name rules' verdict, similarity and
    overlap (verify.check with the meaning thresholds off)."""
    from assistant.answer.verify import VerifySettings, check, split_claims

    for fis in (False, True):
        loose = VerifySettings(min_similarity=-1.0, min_overlap=0.0, figures_in_span=fis)
        for e in examples:
            p = paras[e["passage"]]
            rows = []
            for claim in split_claims(f"{e['claim']} [1]"):
                s = check(claim.text, p["text"], enc, p["sents"], loose)
                rows.append((s.ok, s.similarity, s.overlap))
            e[f"f{int(fis)}"] = rows


def shown_at(examples, sim: float, ovl: float, fis: bool) -> np.ndarray:
    k = f"f{int(fis)}"
    return np.array([any(ok and s >= sim and o >= ovl for ok, s, o in e[k]) for e in examples])


def figures_of(examples, shown: np.ndarray) -> dict:
    kinds = np.array([e["kind"] for e in examples])
    pos = kinds == "supported"
    bar = np.isin(kinds, ("supported",) + KINDS)
    tp = int((shown & pos).sum())
    fp = int((shown & bar & ~pos).sum())
    out = {"supported": int(pos.sum()), "unsupported": int((bar & ~pos).sum()),
           "shown_supported": tp, "shown_unsupported": fp,
           "precision": tp / (tp + fp) if tp + fp else None,
           "recall": tp / pos.sum() if pos.sum() else None, "per_kind": {}}
    heavy = kinds == "supported_heavy"
    out["recall_heavy_paraphrase"] = float((shown & heavy).sum() / heavy.sum()) \
        if heavy.sum() else None
    for kind in KINDS + EXTRA:
        m = kinds == kind
        let = int((shown & m).sum())
        # precision if the unsupported sentences were only of this kind, one per supported one
        rate = let / m.sum() if m.sum() else None
        out["per_kind"][kind] = {
            "examples": int(m.sum()), "let_through": let, "let_through_rate": rate,
            "precision_1to1": (out["recall"] / (out["recall"] + rate))
            if rate is not None and out["recall"] else None,
            "in_bar": kind in KINDS}
        facts_ = sorted({e.get("fact") for e in examples if e["kind"] == kind and e.get("fact")})
        if facts_:
            out["per_kind"][kind]["by_fact"] = {
                f: {"examples": int(sum(1 for e in examples if e["kind"] == kind
                                        and e.get("fact") == f)),
                    "let_through": int(sum(1 for e, s in zip(examples, shown)
                                           if s and e["kind"] == kind and e.get("fact") == f))}
                for f in facts_}
    return out


def choose(fit) -> tuple[dict, list[dict]]:
    kinds = np.array([e["kind"] for e in fit])
    pos = kinds == "supported"
    bar = np.isin(kinds, ("supported",) + KINDS)
    grid = []
    for fis in (False, True):
        k = f"f{int(fis)}"
        # An example is shown when any of its claims passes.
        rows = [e[k] for e in fit]
        for sim in SIM_GRID:
            for ovl in OVERLAP_GRID:
                shown = np.array([any(ok and s >= sim and o >= ovl for ok, s, o in r)
                                  for r in rows])
                tp = int((shown & pos).sum())
                fp = int((shown & bar & ~pos).sum())
                prec = tp / (tp + fp) if tp + fp else 0.0
                grid.append({"min_similarity": float(sim), "min_overlap": float(ovl),
                             "figures_in_span": fis, "precision": prec,
                             "recall": tp / pos.sum()})
    ok = [g for g in grid if g["precision"] >= TARGET_PRECISION] or grid
    top = max(round(g["recall"], 9) for g in ok)
    tied = [g for g in ok if round(g["recall"], 9) == top]
    # figures_in_span on when it is among the best: it also catches a figure taken from another
    # sentence of the passage.
    fis = any(g["figures_in_span"] for g in tied)
    tied = [g for g in tied if g["figures_in_span"] == fis]
    # The middle of the tied region, not an edge of it: the benchmark's paraphrases are lighter
    # than a model's, so the loosest setting would be tuned to the negatives alone and the
    # strictest to the light paraphrases alone.
    sims = sorted({g["min_similarity"] for g in tied})
    sim = sims[len(sims) // 2]
    ovls = sorted({g["min_overlap"] for g in tied if g["min_similarity"] == sim})
    ovl = ovls[len(ovls) // 2]
    best = next(g for g in tied if g["min_similarity"] == sim and g["min_overlap"] == ovl)
    best = {**best, "tied_region": {
        "settings": len(tied), "min_similarity": [sims[0], sims[-1]],
        "min_overlap": [min(g["min_overlap"] for g in tied), max(g["min_overlap"] for g in tied)],
        "precision": [min(g["precision"] for g in tied), max(g["precision"] for g in tied)]}}
    return best, grid


def samples(examples, shown, paras, n=8) -> dict:
    """A few of the reporting half's mistakes per kind, for reading."""
    out: dict[str, list] = {}
    for e, s in zip(examples, shown):
        if e["kind"] in ("supported", "supported_heavy") and not s:
            out.setdefault(f"{e['kind']}_dropped", []).append(
                {"claim": e["claim"], "source": e["source"], "why": e.get("verify_why", "")})
        elif e["kind"] in KINDS + EXTRA and s:
            out.setdefault(f"{e['kind']}_shown", []).append(
                {"claim": e["claim"], "source": e["source"], "how": e.get("verify_kept", ""),
                 "passage": paras[e["passage"]]["text"][:300]})
    return {k: v[:n] for k, v in sorted(out.items())} | {
        "counts": {k: len(v) for k, v in sorted(out.items())}}


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def main() -> None:
    ap = parser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", help="keep the sentence vectors in this file between runs "
                                    "(development only)")
    args = ap.parse_args()
    path = data_path(args, "squad-v2.0-dev-half", "dev-v2.0.json", what="SQuAD v2 dev-half")
    t0 = time.perf_counter()
    from assistant.answer import verify
    from assistant.config import Settings
    from assistant.embedding import Embedder
    from assistant.eval import load_squad

    wiki = load_squad(path)
    paras, examples, stats = build_examples(wiki)
    print(f"{len(paras)} paragraphs, {len(examples)} examples "
          f"({stats['paraphrased']}/{stats['sentences']} sentences paraphrased)", file=sys.stderr)
    embedder = Embedder.from_settings(Settings())
    enc = CachedEncoder(embedder, args.cache)
    t = time.perf_counter()
    enc.warm([p["text"][a:b] for p in paras for a, b in p["spans"]] +
             [c.text for e in examples for c in verify.split_claims(f"{e['claim']} [1]")] +
             [e["claim"] for e in examples])
    encode_s = time.perf_counter() - t
    enc.save()
    print(f"encoded {enc.model_texts} texts in {encode_s:.0f} s", file=sys.stderr)
    nearest_wrong(examples, paras, enc)
    t = time.perf_counter()
    features(examples, paras, enc)
    fit = [e for e in examples if e["half"] == 0]
    rep = [e for e in examples if e["half"] == 1]
    best, grid = choose(fit)
    chosen = verify.VerifySettings(best["min_similarity"], best["min_overlap"],
                                   best["figures_in_span"])
    fit_fig = figures_of(fit, shown_at(fit, chosen.min_similarity, chosen.min_overlap,
                                       chosen.figures_in_span))
    # The reporting half: the product's own call, once, with the chosen settings.
    shown = []
    for e in rep:
        p = paras[e["passage"]]
        v = verify.verify(f"{e['claim']} [1]", [p["text"]], enc, [p["sents"]], chosen)
        shown.append(any(1 in sup for _, sup in v.kept))
        e["verify_why"] = "; ".join(w for _, w in v.dropped)
        e["verify_kept"] = "; ".join(f"sim {s.similarity:.2f} overlap {s.overlap:.2f}"
                                     for _, sup in v.kept for s in sup.values())
    shown = np.array(shown)
    rep_fig = figures_of(rep, shown)
    verify_s = time.perf_counter() - t
    # The shipped settings are calibrated on realistic answers (bench_verifier_realistic):
    # this set is their second report, through the product's own call.
    shipped = verify.DEFAULT_VERIFY_SETTINGS
    ship_shown = []
    for e in rep:
        p = paras[e["passage"]]
        v = verify.verify(f"{e['claim']} [1]", [p["text"]], enc, [p["sents"]], shipped)
        ship_shown.append(any(1 in sup for _, sup in v.kept))
    ship_fig = figures_of(rep, np.array(ship_shown))
    # How the other figures_in_span setting would do at its own best thresholds.
    alt = [g for g in grid if g["figures_in_span"] != best["figures_in_span"]
           and g["precision"] >= TARGET_PRECISION]
    alt = sorted(alt, key=lambda g: (-g["recall"], -g["precision"], g["min_similarity"]))[:1]
    alt_fig = None
    if alt:
        a = alt[0]
        alt_fig = {"settings": a, "reporting": figures_of(rep, shown_at(
            rep, a["min_similarity"], a["min_overlap"], a["figures_in_span"]))}
    titles = {0: sorted({p["title"] for p in paras if p["half"] == 0}),
              1: sorted({p["title"] for p in paras if p["half"] == 1})}
    result = {
        "command": "python -m benchmarks.bench_verifier" + " ".join(
            f" {a}" for a in sys.argv[1:]),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "data": "SQuAD v2 dev-half (dev-v2.0.json)",
        "split": "by article: assistant.eval.half(title); 0 = fitting, 1 = reporting",
        "articles": {"fitting": titles[0], "reporting": titles[1]},
        "model": embedder.name, "precision_mode": embedder.precision,
        "rule": f"highest fitting-half recall with precision >= {TARGET_PRECISION}; among the "
                "settings tied there, figures_in_span on if any, then the median similarity "
                "threshold and, at it, the median overlap threshold",
        "chosen_on_fitting_half": best,
        "thresholds": {"min_similarity": chosen.min_similarity, "min_overlap": chosen.min_overlap,
                       "figures_in_span": chosen.figures_in_span},
        "shipped_thresholds": {"min_similarity": shipped.min_similarity,
                               "min_overlap": shipped.min_overlap,
                               "figures_in_span": shipped.figures_in_span},
        "bar": {"precision": 0.97, "recall": 0.85},
        "fitting": fit_fig,
        "reporting": rep_fig,
        "reporting_with_shipped_thresholds": ship_fig,
        "other_figures_in_span_setting": alt_fig,
        "bar_met": bool(rep_fig["precision"] >= 0.97 and rep_fig["recall"] >= 0.85),
        "shipped_precision_at_least_0.97": bool(ship_fig["precision"] >= 0.97),
        "generation": stats,
        "examples": {k: sum(1 for e in examples if e["kind"] == k)
                     for k in ("supported", "supported_heavy") + KINDS + EXTRA},
        "reporting_samples": samples(rep, shown, paras),
        "seconds": {"total": time.perf_counter() - t0, "encode": encode_s,
                    "verify": verify_s, "texts_encoded": enc.model_texts},
        "grid_top": sorted(grid, key=lambda g: (-(g["precision"] >= TARGET_PRECISION),
                                                -g["recall"], -g["precision"]))[:10],
    }
    path = save_result("verifier", result)
    r = rep_fig
    print(f"thresholds (fitting half): similarity >= {chosen.min_similarity}, overlap >= "
          f"{chosen.min_overlap}, figures_in_span={chosen.figures_in_span}; fitting precision "
          f"{fit_fig['precision']:.4f} recall {fit_fig['recall']:.4f}")
    print(f"reporting half: precision {r['precision']:.4f} recall {r['recall']:.4f} "
          f"({r['shown_supported']}/{r['supported']} supported shown, {r['shown_unsupported']}/"
          f"{r['unsupported']} unsupported shown) bar {'met' if result['bar_met'] else 'NOT met'}")
    r = ship_fig
    print(f"reporting half with the shipped settings ({shipped}): precision "
          f"{r['precision']:.4f} recall {r['recall']:.4f}")
    print(f"  heavier paraphrases (not in the bar): recall {r['recall_heavy_paraphrase']:.4f}")
    for kind, k in r["per_kind"].items():
        print(f"  {kind:16s} let through {k['let_through']:4d}/{k['examples']:<5d} "
              f"precision 1:1 {_fmt(k['precision_1to1'])}"
              f"{'' if k['in_bar'] else '  (not in the bar)'}")
    print(f"wrote {path} in {result['seconds']['total']:.0f} s")
    if (shipped.min_similarity, shipped.min_overlap, shipped.figures_in_span) != \
            (chosen.min_similarity, chosen.min_overlap, chosen.figures_in_span):
        print("note: the shipped thresholds are calibrated on realistic answers "
              "(bench_verifier_realistic); this set's own choice is reported beside them.")


if __name__ == "__main__":
    main()
