"""The administrators' feedback review: read the feedback log, filter it, attach what a
thumbs-down said was wrong, and turn chosen feedback into an `assistant eval questions` file, so a
complaint becomes a test case that every later change is measured on.

Feedback lives in the app database (assistant/workspace/feedback.py; records as ui/feedback.py
writes them), or in an older data_dir/feedback.jsonl. Both are append-only: the "What was wrong?"
details are their own records ({"kind": "detail", "ref": <feedback id>, "rating": "down", ...})
merged into the rating they refer to when read."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .access import Scope
from .ui.feedback import FEEDBACK_FILE, append_feedback

# What a thumbs-down can say was wrong (the keys are stored; the labels are shown).
REASONS = {
    "wrong_answer": "Wrong answer",
    "other_article": "The answer is in another article",
    "should_abstain": "It should have said it doesn't know",
    "bad_citation": "A citation doesn't support it",
}


@dataclass
class Feedback:
    id: str
    time: str
    user: str | None
    rating: str
    question: str
    answer: str
    tier: str
    citations: list[dict]
    history: list[str]
    reasons: tuple[str, ...] = ()
    comment: str = ""
    expected_source: str = ""
    expected_section: str = ""

    @property
    def day(self) -> date | None:
        try:
            return date.fromisoformat(self.time[:10])
        except ValueError:
            return None


def detail_record(ref: str, reasons: Iterable[str], comment: str = "",
                  expected_source: str = "", expected_section: str = "",
                  user: str | None = None) -> dict:
    unknown = [r for r in reasons if r not in REASONS]
    if unknown:
        raise ValueError(f"unknown reason {unknown[0]!r} (known: {', '.join(REASONS)})")
    return {"kind": "detail", "ref": ref, "rating": "down", "question": "",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "user": user, "reasons": list(reasons), "comment": comment.strip(),
            "expected_source": expected_source or "", "expected_section": expected_section or ""}


def add_detail(data_dir: Path | str, record: dict) -> Path:
    return append_feedback(data_dir, record)


def read_feedback(data_dir: Path | str) -> tuple[list[Feedback], list[str]]:
    """The feedback of a feedback.jsonl (before the app database), merged as merge_records."""
    path = Path(data_dir) / FEEDBACK_FILE
    if not path.is_file():
        return [], []
    records, problems = [], []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError as exc:
                problems.append(f"{path}: line {n}: skipped ({exc})")
                continue
            records.append(rec if not isinstance(rec, dict) or rec.get("id")
                           else {**rec, "id": f"line-{n}"})
    items, more = merge_records(records, str(path))
    return items, problems + more


def merge_records(records: Iterable, origin: str = "feedback") -> tuple[list[Feedback], list[str]]:
    """Feedback records (the app database's, or a feedback.jsonl's lines), newest first, with the
    "What was wrong?" detail records merged into the rating they refer to (a later detail
    replaces an earlier one); one problem line per record that cannot be read."""
    items: dict[str, Feedback] = {}
    details: list[dict] = []
    problems: list[str] = []
    for n, rec in enumerate(records, start=1):
        try:
            if not isinstance(rec, dict):
                raise ValueError("not a JSON object")
            if rec.get("kind") == "detail":
                details.append(rec)
                continue
            fid = str(rec.get("id") or f"record-{n}")
            items[fid] = Feedback(
                id=fid, time=str(rec.get("time", "")), user=rec.get("user"),
                rating=str(rec["rating"]), question=str(rec["question"]),
                answer=str(rec.get("answer", "")), tier=str(rec.get("tier", "")),
                citations=list(rec.get("citations") or []),
                history=[str(h) for h in rec.get("history") or []])
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"{origin}: record {n}: skipped ({exc})")
    for d in details:
        fb = items.get(str(d.get("ref")))
        if fb is None:
            continue
        fb.reasons = tuple(r for r in d.get("reasons") or () if r in REASONS)
        fb.comment = str(d.get("comment") or "")
        fb.expected_source = str(d.get("expected_source") or "")
        fb.expected_section = str(d.get("expected_section") or "")
    return sorted(items.values(), key=lambda f: f.time, reverse=True), problems


def filter_feedback(items: Sequence[Feedback], rating: str | None = None,
                    since: date | None = None, until: date | None = None,
                    user: str | None = None) -> list[Feedback]:
    """Feedback by rating ("up"/"down"), day range (inclusive) and user (part of the address)."""
    out = []
    needle = (user or "").strip().lower()
    for f in items:
        if rating and f.rating != rating:
            continue
        if (since or until) and (f.day is None or (since and f.day < since)
                                  or (until and f.day > until)):
            continue
        if needle and needle not in (f.user or "").lower():
            continue
        out.append(f)
    return out


def as_question(f: Feedback) -> dict:
    """One line of an `assistant eval questions` file. The expected source: the article a
    thumbs-down picked; else, for a thumbs-up, the first cited one. "Should have said it doesn't
    know" makes the question unanswerable."""
    q: dict = {"question": f.question}
    if f.history:
        q["history"] = list(f.history)
    if "should_abstain" in f.reasons:
        q["answerable"] = False
        return q
    q["answerable"] = True
    if f.expected_source:
        q["source"] = f.expected_source
        if f.expected_section:
            q["section"] = f.expected_section
    elif f.rating == "up" and f.citations:
        first = f.citations[0]
        if first.get("source"):
            q["source"] = first["source"]
        if first.get("section") and first.get("section") != first.get("article"):
            q["section"] = first["section"]
    return q


def export_questions(items: Sequence[Feedback]) -> str:
    """The chosen feedback as JSON Lines in `assistant eval questions` format."""
    return "".join(json.dumps(as_question(f), ensure_ascii=False) + "\n" for f in items)


def withheld(citations: Sequence[dict], scope: Scope | None) -> list[dict]:
    """Citations as a reader may see them: those of collections outside `scope` replaced by a
    withheld marker (their number kept)."""
    if scope is None:
        return list(citations)
    return [c if scope.permits_source(str(c.get("source", ""))) else
            {"n": c.get("n"), "withheld": True} for c in citations]
