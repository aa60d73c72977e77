"""The feedback log: one JSON line per rating, appended to data_dir/feedback.jsonl."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from ..records import Answer

FEEDBACK_FILE = "feedback.jsonl"
_feedback_lock = threading.Lock()


def feedback_record(answer: Answer, rating: str, history: Sequence[str] = (),
                    when: str | None = None, user: str | None = None) -> dict:
    """One feedback line: when, who (the signed-in user's e-mail address or subject, so the
    owner can follow up; null when sign-in is not configured), the question, the answer and its
    citations, the rating ("up"/"down"). Abstentions keep the passages they showed, for
    calibrating abstention."""
    rec = {
        "time": when or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "user": user,
        "question": answer.question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "tier": answer.tier,
        "mode": answer.mode,
        "citations": [c.to_json() for c in answer.citations],
        "rating": rating,
        "confidence": round(float(answer.confidence), 4),
        "build": answer.build_id,
        "history": list(history),
    }
    if answer.abstained:
        rec["closest"] = [{"article": p.article_title, "section": p.section, "source": p.source}
                          for p in answer.passages]
    return rec


def append_feedback(data_dir: Path | str, record: dict) -> Path:
    """Append one JSON line to data_dir/feedback.jsonl (created with its folder)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / FEEDBACK_FILE
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _feedback_lock:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
    return path
