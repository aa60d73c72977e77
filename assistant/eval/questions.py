"""Question files written by people (JSON Lines): where the answer should be cited from, what it
should contain, or that the articles do not answer it; scored and reported with plots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

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
            "declined": bool((answer.llm or {}).get("declined")),
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
        # With the LLM reader: questions it read and declined (shown as "no clear answer").
        "llm_declined": sum(bool(r.get("declined")) for r in results),
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
    bins = np.linspace(0, 1, 21).tolist()
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
             f"| unanswerable questions abstained | {s['unanswerable_abstained']} of "
             f"{s['unanswerable']} |",
             f"| answerable questions wrongly abstained | {s['answerable_wrongly_abstained']} of "
             f"{s['answerable']} |",
             f"| latency p50 / p95 | {fmt(s['latency_ms']['p50'])} / "
             f"{fmt(s['latency_ms']['p95'])} ms |",
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
