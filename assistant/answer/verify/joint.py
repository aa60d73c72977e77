"""A sentence that joins facts from several passages it cites ("X did A [1] and B [3]"): no
one passage supports all of it, so it is judged against the union of the passages it cites.
Figures and names may come from any of them (the hard gates, over the union); the meaning from
their best spans together: the similarity to the mean of the best spans, and the content words
found in those spans and their neighbour sentences. Each passage that gives at least one of the
sentence's words is kept as a citation, quoting its best span."""

from __future__ import annotations

import numpy as np

from . import Support, VerifySettings, _names, _Prepared, _terms_for, _window_terms
from .figures import _figures
from .polarity import reversed_of
from .words import _name_in


def joint_support(claim: str, claim_terms: set[str], claim_vec: np.ndarray,
                  prepared: dict[int, _Prepared], span_vecs: dict[int, np.ndarray],
                  settings: VerifySettings,
                  question_terms: frozenset[str] = frozenset()) -> dict[int, Support]:
    """The cited passages that support the claim together ({} when they do not)."""
    ps = {n: p for n, p in prepared.items() if p.spans and len(span_vecs[n])}
    if len(ps) < 2:
        return {}
    figure_keys = frozenset().union(*(p.figure_keys for p in ps.values()))
    words = frozenset().union(*(p.words for p in ps.values()))
    figures = _figures(claim, claim=True)
    if any(not (f.keys & figure_keys) for f in figures):
        return {}
    text = "\n.\n".join(p.text for p in ps.values())  # no name spelled out across two
    if any(not _name_in(n, words, text) for n in _names(claim, figures)):
        return {}
    best = {n: int(np.argmax(span_vecs[n] @ claim_vec)) for n in ps}
    sims = {n: float(span_vecs[n][best[n]] @ claim_vec) for n in ps}
    mean = np.mean([span_vecs[n][best[n]] for n in ps], axis=0)
    similarity = max(float(mean @ claim_vec) / max(float(np.linalg.norm(mean)), 1e-9),
                     max(sims.values()))
    all_terms = frozenset().union(*(p.all_terms for p in ps.values()))
    terms = _terms_for(claim_terms, all_terms, question_terms, settings)
    near = {n: (_window_terms(p, best[n]) if settings.window else p.span_terms[best[n]])
            for n, p in ps.items()}
    found = frozenset().union(*near.values())
    overlap = len(terms & found) / len(terms) if terms else 0.0
    if similarity < settings.min_similarity or overlap < settings.min_overlap:
        return {}
    spans_text = " ".join(p.text[slice(*p.spans[best[n]])] for n, p in ps.items())
    if settings.polarity and reversed_of(claim, spans_text):
        return {}
    return {n: Support(True, "", ps[n].spans[best[n]], sims[n], overlap)
            for n in ps if terms & near[n]}
