"""The verifier of the optional LLM reader: a generated sentence is shown only when a passage it
cites supports it. Pure functions (no I/O); the caller passes the passages and an `encode`
function (`Embedder.encode_queries` in the product, a fake in unit tests).

A sentence is supported by a cited passage when
1. every figure in it (number, year, amount, percentage, ordinal, code such as "A380") occurs in
   the passage, with normalisation ("1,000" = "1000", "$5m" = "$5 million" = "5,000,000 dollars",
   "42 per cent" = "42%", "three" = "3", "19th" = "nineteenth");
2. every capitalised word (a name, a month, a day) occurs in the passage in any case, stem or
   possessive form. The first word of a sentence is capitalised anyway: it is skipped when it is a
   function or discourse word ("The", "However", "In"), and checked like a name otherwise, so
   "Obama said ..." fails against a passage without "Obama" while "Steam engines ..." passes a
   passage that says "steam";
3. its meaning is close to one span of the passage (a sentence, or two adjacent sentences): the
   cosine of the sentence's vector to the best span's vector is at least `min_similarity`;
   with `figures_in_span`, only spans that hold all the sentence's figures count, so a figure
   taken from another sentence of the passage does not pass;
4. enough of its content words (stemmed, stop words removed: `lexical.tokenize`) occur in that
   best span: at least `min_overlap` of them. (The span, not the whole passage: a passage on
   the same subject shares many words with any sentence about it; the benchmark's fitting half
   showed the span's words separate mis-citations from paraphrases better.)

5. it keeps the span's polarity (verify/polarity.py): no negation added or dropped, no opposite
   (rose/fell, approved/rejected, optimistic/pessimistic ...) of what the span says.
Words the question brings that the passage lacks are not counted in 4 ("The official quoted
is ..."), and 4 looks in the best span and its neighbour sentences. A sentence no single cited
passage supports may be supported by them together (verify/joint.py).

A sentence with no citation, only out-of-range citations, or no content words at all ("Here is
the answer:") is dropped: a demanding reader wants only verified text. A citation that does not
support a sentence is removed from it; the sentence is kept when another of its citations does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ...text import tokenize
from .claims import _DECLINE, DECLINE_TOKEN, Claim, is_declined, split_claims  # noqa: F401
from .figures import _figures, _passage_keys
from .polarity import reversed_of
from .words import (  # noqa: F401
    _acronyms_ok,
    _fold,
    _function_words,
    _name_in,
    _name_part_in,
    _names,
    _stem,
    _text_word_keys,
)

Encode = Callable[[list[str]], np.ndarray]
Spans = Sequence[tuple[int, int]]



@dataclass(frozen=True)
class VerifySettings:
    """Thresholds of the meaning test, calibrated on realistic answers: the fit half of
    benchmarks/realistic/ (replies a capable model wrote to the product's own prompts, and false
    sentences of five kinds), by benchmarks/bench_verifier_realistic.py. Among the settings
    tried, the one showing the most true sentences while keeping every false kind at or below
    its level with the previous thresholds (0.52 / 0.75, fitted on rule-made SQuAD sentences).
    The rule-made set (benchmarks/bench_verifier.py) is the second report: precision >= 0.97.
    See benchmarks/results/verifier-realistic.json and verifier.json."""

    min_similarity: float = 0.45  # cosine of the sentence to its best span
    min_overlap: float = 0.75  # share of the sentence's content words in that span (and next)
    figures_in_span: bool = True  # the best span must hold all the sentence's figures
    # Realistic answers (benchmarks/bench_verifier_realistic.py): content words are looked
    # for in the best span and the sentences next to it; words the question brings that the
    # passage lacks are not counted; a reversal of the span's polarity is unsupported.
    window: bool = True
    question_words: bool = True
    polarity: bool = True

    def __post_init__(self):
        for name in ("min_similarity", "min_overlap"):
            v = getattr(self, name)
            if not -1.0 <= v <= 1.0:
                raise ValueError(f"{name} must be within [-1, 1], got {v}")


DEFAULT_VERIFY_SETTINGS = VerifySettings()



@dataclass(frozen=True)
class Support:
    ok: bool
    reason: str  # "" when ok, else one line for people
    span: tuple[int, int]  # best-matching span in the passage text: the citation's quote
    similarity: float
    overlap: float


@dataclass(frozen=True)
class Verification:
    kept: list[tuple[Claim, dict[int, Support]]] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (sentence, why)
    declined: bool = False
    # Citations taken off a kept sentence: (sentence, n, why).
    removed_citations: list[tuple[str, int, str]] = field(default_factory=list)



# ----------------------------------------------------------------------------- checking

def _content_terms(texts: Sequence[str], query: bool) -> list[set[str]]:
    clean = [re.sub(r"(?<=\d),(?=\d{3}\b)", "", _fold(t)) for t in texts]
    return [set(x) for x in tokenize(clean, query=query)]


_CLAUSE = re.compile(r"(?:[,;:]|\s[-–—])\s+(?=(?:and|but|while|whereas|although|though|"
                     r"which|who|whose|so|yet|or|because|since|when|where|after|before|until|"
                     r"as|thus|then|including)\b)|;\s+")


def _clauses(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """Clause pieces of the sentence text[a:b] cut at ", and", ", which", "; " ...: the part
    before each cut and the part after it (from the cut's word on), each of 4 words or more. A
    generated sentence often says one clause of a long sentence."""
    out = []
    for m in _CLAUSE.finditer(text, a, b):
        head = (a, m.start())
        tail = (m.end(), b)
        for x, y in (head, tail):
            piece = text[x:y].rstrip(" .;:,")
            if len(piece.split()) >= 4:
                out.append((x, x + len(piece)))
    return out


def candidate_spans(passage: str, sentence_spans: Spans | None = None,
                    clauses: bool = True) -> list[tuple[int, int]]:
    """The spans a sentence is compared with (offsets into `passage`): each sentence of the
    passage, each pair of adjacent sentences, and the clause pieces of each sentence."""
    if sentence_spans is None:
        from ...chunking import sentence_spans as split

        sentence_spans = split(passage)
    sents = [(int(a), int(b)) for a, b in sentence_spans if 0 <= a < b <= len(passage)]
    if not sents and passage.strip():
        lead = len(passage) - len(passage.lstrip())
        sents = [(lead, len(passage.rstrip()))]
    pairs = [(sents[i][0], sents[i + 1][1]) for i in range(len(sents) - 1)]
    pieces = [c for a, b in sents for c in _clauses(passage, a, b)] if clauses else []
    return list(dict.fromkeys(sents + pairs + pieces))


@dataclass(frozen=True)
class _Prepared:
    """What the check needs of a passage, computed once per passage (and remembered: the LLM
    reader verifies sentence by sentence against the same passages)."""

    text: str
    spans: tuple[tuple[int, int], ...]
    words: frozenset[str]  # every word, in the form names are matched in
    figure_keys: frozenset[str]
    span_keys: tuple[frozenset[str], ...]  # figures per span
    span_terms: tuple[frozenset[str], ...]  # content words per span
    all_terms: frozenset[str] = frozenset()  # content words of the whole passage


@lru_cache(maxsize=256)
def _prepare(passage: str, spans: tuple[tuple[int, int], ...]) -> _Prepared:
    terms = _content_terms([passage[a:b] for a, b in spans], query=False) if spans else []
    return _Prepared(passage, spans, frozenset(_text_word_keys(passage)),
                     frozenset(_passage_keys(passage)),
                     tuple(frozenset(_passage_keys(passage[a:b])) for a, b in spans),
                     tuple(frozenset(t) for t in terms), frozenset().union(*terms))


def _quote(items: list[str]) -> str:
    q = [f'"{x}"' for x in dict.fromkeys(items)]
    return q[0] if len(q) == 1 else ", ".join(q[:-1]) + " and " + q[-1]


def _window_terms(p: _Prepared, best: int) -> frozenset[str]:
    """Content words of span `best` and of the spans touching it (its neighbour sentences)."""
    a, b = p.spans[best]
    return frozenset().union(*(t for (x, y), t in zip(p.spans, p.span_terms)
                               if x <= b + 1 and y >= a - 1))


def _terms_for(claim_terms: set[str], p_terms: frozenset[str], question_terms: frozenset[str],
               settings: VerifySettings) -> set[str]:
    if not settings.question_words or not question_terms:
        return claim_terms
    return claim_terms - (question_terms - p_terms) or claim_terms


def _support(claim: str, claim_terms: set[str], claim_vec: np.ndarray, p: _Prepared,
             span_vecs: np.ndarray, settings: VerifySettings, label: str,
             question_terms: frozenset[str] = frozenset()) -> Support:
    if not p.spans:
        return Support(False, f"{label} is empty", (0, 0), 0.0, 0.0)
    figures = _figures(claim, claim=True)
    reasons = []
    missing_fig = [f.text for f in figures if not (f.keys & p.figure_keys)]
    if missing_fig:
        kind = "figure" if len(missing_fig) == 1 else "figures"
        verb = "is" if len(missing_fig) == 1 else "are"
        reasons.append(f"the {kind} {_quote(missing_fig)} {verb} not in {label}")
    missing_names = [n.text for n in _acronyms_ok(
        [n for n in _names(claim, figures) if not _name_in(n, p.words, p.text)],
        p.words)]
    if missing_names:
        kind = "name" if len(missing_names) == 1 else "names"
        verb = "is" if len(missing_names) == 1 else "are"
        reasons.append(f"the {kind} {_quote(missing_names)} {verb} not in {label}")
    sims = span_vecs @ claim_vec if len(span_vecs) else np.zeros(0, np.float32)
    allowed = np.ones(len(p.spans), dtype=bool)
    if settings.figures_in_span and figures and not missing_fig:
        allowed = np.array([all(f.keys & keys for f in figures) for keys in p.span_keys])
        if not allowed.any():
            reasons.append(f"the figures {_quote([f.text for f in figures])} are not in one "
                           f"sentence of {label}")
            allowed = np.ones(len(p.spans), dtype=bool)
    masked = np.where(allowed, sims, -np.inf)
    best = int(np.argmax(masked))
    similarity = float(sims[best])
    terms = _terms_for(claim_terms, p.all_terms, question_terms, settings)
    near = _window_terms(p, best) if settings.window else p.span_terms[best]
    overlap = (len(terms & near) / len(terms)) if terms else 0.0
    if similarity < settings.min_similarity:
        reasons.append(f"{label} says nothing close (similarity {similarity:.2f})")
    if overlap < settings.min_overlap:
        reasons.append(f"the closest span of {label} has few of its words (overlap {overlap:.2f})")
    if settings.polarity and not reasons:
        a, b = p.spans[best]
        # Against the closest span, and the span holding most of the sentence's words.
        most = max(range(len(p.spans)), key=lambda i: (len(terms & p.span_terms[i]), sims[i]))
        flipped = reversed_of(claim, p.text[a:b]) or (
            most != best and reversed_of(claim, p.text[slice(*p.spans[most])], negation=False))
        if flipped:
            reasons.append(f"{flipped} ({label})")
    return Support(not reasons, "; ".join(reasons), p.spans[best], similarity, overlap)


# Words about the answer itself, not about the world: they carry no claim ("Here is the answer:",
# "According to the passage, ...") and are not looked for in the passage.
_META = ("answer answers question questions passage passages article articles source sources text "
         "texts document documents information summary summarise summarize following mention "
         "mentions mentioned state states stated note noted provided given context excerpt here "
         "according based regarding yes")


@lru_cache(maxsize=1)
def _meta_terms() -> frozenset[str]:
    return frozenset(_stem(w) for w in _META.split())


def _claim_terms(claims: Sequence[str]) -> list[set[str]]:
    meta = _meta_terms()
    return [t - meta for t in _content_terms(claims, query=True)]


def check(claim: str, passage: str, encode: Encode, sentence_spans: Spans | None = None,
          settings: VerifySettings = DEFAULT_VERIFY_SETTINGS,
          label: str = "the passage") -> Support:
    """Whether `passage` supports the sentence `claim` (no markers). `sentence_spans` are the
    passage's sentence offsets (into `passage`), computed when not given. One encode call."""
    spans = candidate_spans(passage, sentence_spans)
    p = _prepare(passage, tuple(spans))
    texts = [claim] + [passage[a:b] for a, b in spans]
    vecs = np.asarray(encode(texts), dtype=np.float32)
    return _support(claim, _claim_terms([claim])[0], vecs[0], p, vecs[1:], settings, label)


def _has_content(claim: str, terms: set[str]) -> bool:
    return bool(terms) or bool(_figures(claim, claim=True))


def verify(answer: str, passages: Sequence[str], encode: Encode,
           sentence_spans: Sequence[Spans | None] | None = None,
           settings: VerifySettings = DEFAULT_VERIFY_SETTINGS,
           question: str = "") -> Verification:
    """Check every sentence of a generated answer against the passages it cites ([n] is
    passages[n-1]). `sentence_spans[i]`, when given, are passage i's sentence offsets (into
    passages[i]). All sentences and passage spans are encoded in one call."""
    claims = split_claims(answer)
    if is_declined(answer):
        declined = [(c.text, "the model declined (NOT_IN_ARTICLES)") for c in claims
                    if not _DECLINE.search(c.text)]
        return Verification([], declined, True, [])
    n_pass = len(passages)
    dropped: list[tuple[str, str]] = []
    removed: list[tuple[str, int, str]] = []
    terms = _claim_terms([c.text for c in claims]) if claims else []
    q_terms = frozenset(_content_terms([question], query=True)[0]) if question.strip() else \
        frozenset()
    jobs = []
    for claim, t in zip(claims, terms):
        if not claim.cited:
            dropped.append((claim.text, "no citation"))
            continue
        if not _has_content(claim.text, t):
            dropped.append((claim.text, "no claim to check"))
            continue
        valid = [n for n in claim.cited if 1 <= n <= n_pass]
        bad = [n for n in claim.cited if not 1 <= n <= n_pass]
        out_of_range = [(n, f"cites [{n}] but only {n_pass} passage{'s' if n_pass != 1 else ''} "
                            f"{'were' if n_pass != 1 else 'was'} given") for n in bad]
        if not valid:
            dropped.append((claim.text, "; ".join(w for _, w in out_of_range)))
            continue
        jobs.append((claim, t, valid, out_of_range))
    needed = sorted({n for _, _, valid, _ in jobs for n in valid})
    prepared: dict[int, _Prepared] = {}
    if needed:
        for n in needed:
            given = sentence_spans[n - 1] if sentence_spans is not None and \
                n - 1 < len(sentence_spans) else None
            text = passages[n - 1]
            prepared[n] = _prepare(text, tuple(candidate_spans(text, given)))
    texts = list(dict.fromkeys([c.text for c, _, _, _ in jobs] + [
        prepared[n].text[a:b] for n in needed for a, b in prepared[n].spans]))
    row = {t: i for i, t in enumerate(texts)}
    vecs = np.asarray(encode(texts), dtype=np.float32) if texts else np.zeros((0, 1), np.float32)
    span_vecs = {n: vecs[[row[prepared[n].text[a:b]] for a, b in prepared[n].spans]]
                 if prepared[n].spans else np.zeros((0, vecs.shape[1]), np.float32)
                 for n in needed}
    kept: list[tuple[Claim, dict[int, Support]]] = []
    for claim, t, valid, out_of_range in jobs:
        results = {n: _support(claim.text, t, vecs[row[claim.text]], prepared[n], span_vecs[n],
                               settings, f"passage [{n}]", q_terms) for n in valid}
        ok = {n: s for n, s in results.items() if s.ok}
        if not ok and len(valid) > 1:  # a sentence joining facts of the passages it cites
            ok = joint_support(claim.text, t, vecs[row[claim.text]],
                               {n: prepared[n] for n in valid}, span_vecs, settings, q_terms)
        failed = [s.reason for n, s in results.items() if not s.ok] + [w for _, w in out_of_range]
        if ok:
            kept.append((claim, ok))
            removed.extend((claim.text, n, s.reason) for n, s in results.items() if n not in ok)
            removed.extend((claim.text, n, w) for n, w in out_of_range)
        else:
            dropped.append((claim.text, "; ".join(failed)))
    return Verification(kept, dropped, False, removed)


from .joint import joint_support  # noqa: E402 - it uses the helpers above
