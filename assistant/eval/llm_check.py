"""The LLM reader from the outside: how often it answered or fell back (and why), and whether
every sentence it showed passes the verifier when checked again."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .common import contains_answer, half
from .squad import load_squad


def recheck(answer, encode) -> list[str]:
    """Re-check a shown LLM answer from the outside: every sentence, with the passages its
    markers point to in the final citations, must pass the verifier. Returns the failures."""
    from ..answer import verify  # the product's verifier, applied again from outside the reader

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
    for _ai, (_title, paras) in enumerate(wiki):
        for _pi, (_, qas) in enumerate(paras):
            for qa in qas:
                if half(qa["id"]) == 1:
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
            "fallback": info.get("fallback"), "declined": bool(info.get("declined")),
            "dropped": info.get("dropped") or [],
            "answer": answer.text, "seconds": _time.perf_counter() - started,
            "recheck_failures": recheck(answer, encode),
            "has_expected": contains_answer(answer.text, expected) if expected else None}


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
        "llm_answers": sum(x["mode"] == "llm" and x["tier"] != "abstain" for x in rows),
        # The model read the passages and found no answer: shown as "no clear answer".
        "declined": sum(bool(x.get("declined")) for x in rows),
        "fallbacks": fallbacks,
        "sentences_dropped": sum(len(x["dropped"]) for x in rows),
        "shown_sentences_failing_recheck": sum(len(x["recheck_failures"]) for x in rows),
        "answer_has_expected": (float(np.mean([bool(x["has_expected"]) for x in checked]))
                                if checked else None),
        "latency_seconds": {"p50": float(np.percentile(secs, 50)) if secs else None,
                            "p95": float(np.percentile(secs, 95)) if secs else None},
    }
