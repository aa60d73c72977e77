"""Feedback records (stored in the app database by assistant.workspace.feedback) and the older
log format, one JSON line per rating in data_dir/feedback.jsonl, which the app imports once. A
record keeps the question as it was answered and a bounded history; the log is ASCII-escaped
(U+2028/U+2029 cannot split a line) and readable by its owner only: it holds e-mail addresses."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from ..answer.conversation import clean_question, history_questions
from ..records import Answer

FEEDBACK_FILE = "feedback.jsonl"
FEEDBACK_HISTORY = 10  # questions before the rated one that a feedback line keeps
_feedback_lock = threading.Lock()


def feedback_history(history: Sequence) -> list[str]:
    """The last FEEDBACK_HISTORY questions of the conversation, each as it was answered (cleaned
    and capped like a question): a feedback line stays small however long the chat is."""
    return [q for q in history_questions(list(history)[-FEEDBACK_HISTORY:]) if q]


def feedback_record(answer: Answer, rating: str, history: Sequence[str] = (),
                    when: str | None = None, user: str | None = None) -> dict:
    """One feedback line: when, who (the signed-in user's e-mail address or subject, so the
    owner can follow up; null when sign-in is not configured), the question, the answer and its
    citations, the rating ("up"/"down"). Abstentions keep the passages they showed, for
    calibrating abstention."""
    rec = {
        "id": uuid.uuid4().hex[:16],  # what a later "What was wrong?" line refers to
        "time": when or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "user": user,
        "question": clean_question(answer.question)[0],
        "answer": answer.text,
        "abstained": answer.abstained,
        "tier": answer.tier,
        "mode": answer.mode,
        "citations": [c.to_json() for c in answer.citations],
        "rating": rating,
        "confidence": round(float(answer.confidence), 4),
        "build": answer.build_id,
        "history": feedback_history(history),
    }
    if answer.abstained:
        rec["closest"] = [{"article": p.article_title, "section": p.section, "source": p.source}
                          for p in answer.passages]
    return rec


def append_feedback(data_dir: Path | str, record: dict) -> Path:
    """Append one JSON line to data_dir/feedback.jsonl (created with its folder, mode 0600)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / FEEDBACK_FILE
    # ensure_ascii: U+2028/U+2029 (and every other line break str.splitlines knows) are written
    # as escapes, so a reader splitting lines never sees a record cut in two.
    line = json.dumps(record, ensure_ascii=True) + "\n"
    with _feedback_lock:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            if os.fstat(fd).st_mode & 0o077:  # a file made by an earlier version: 0644
                os.fchmod(fd, 0o600)
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
    return path
