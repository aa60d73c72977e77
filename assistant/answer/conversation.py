"""A question in its conversation: cleaning what was typed, and reading a follow-up ("Who will
lead them?") together with the question before it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from ..text import tokenize

MAX_QUESTION_CHARS = 1000
# Words that point back into the conversation ("Who will lead them?").
_FOLLOWUP_WORDS = {"he", "she", "it", "they", "them", "their", "theirs", "its", "his", "her",
                   "hers", "him", "this", "that", "these", "those", "there", "such"}


def clean_question(question: str) -> tuple[str, str]:
    """Strip control characters and cap the length. Returns (question, notice for the user)."""
    raw = str(question or "")
    # Only the head is cleaned: a megabyte question costs no more than a long one.
    q = "".join(ch if unicodedata.category(ch)[0] != "C" else " "
                for ch in raw[: MAX_QUESTION_CHARS * 8])
    q = re.sub(r"\s+", " ", q).strip()
    if not q:
        return "", "Please type a question."
    if len(q) > MAX_QUESTION_CHARS or len(raw) > MAX_QUESTION_CHARS * 8:
        return q[:MAX_QUESTION_CHARS], (f"Your question was {len(raw):,} characters long; "
                                        f"only the first {MAX_QUESTION_CHARS:,} were used.")
    return q, ""


def is_followup(question: str) -> bool:
    words = re.findall(r"[a-z']+", question.lower())
    content = tokenize([question], query=True)[0]
    return len(content) <= 2 or any(w in _FOLLOWUP_WORDS for w in words) or \
        bool(re.match(r"^(and|also|what about|how about)\b", question.lower()))


def query_for(question: str, history: Sequence = ()) -> str:
    """The retrieval query: a follow-up question is read together with the previous one."""
    previous = last_question(history)
    if previous and is_followup(question):
        return f"{previous} {question}"
    return question


def last_question(history: Sequence) -> str:
    """The last non-empty question asked before, or ""."""
    for h in reversed(list(history or ())):  # from the end: earlier questions are not cleaned
        q = history_questions([h])
        if q and q[0]:
            return q[0]
    return ""


def history_questions(history: Sequence) -> list[str]:
    """History items may be plain questions or chat turns {"role": ..., "content": ...}."""
    out = []
    for h in history or ():
        if isinstance(h, str):
            out.append(clean_question(h)[0])
        elif isinstance(h, dict) and h.get("role", "user") == "user":
            out.append(clean_question(h.get("content", ""))[0])
    return out
