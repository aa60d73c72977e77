"""Feedback on answers (thumbs up or down) in the app database, with the user who gave it, and
the one-time import of an older `feedback.jsonl` (one JSON object per line, as
`ui_support.feedback_record` wrote them)."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from .db import Workspace
from .schema import feedback, meta

JSONL = "feedback.jsonl"


def _row(record: dict, message_id: int | None = None) -> dict:
    if record.get("rating") not in ("up", "down"):
        raise ValueError(f"rating {record.get('rating')!r} is not 'up' or 'down'")
    return {"user_key": record.get("user"), "time": str(record.get("time") or ""),
            "rating": record["rating"], "question": str(record.get("question") or ""),
            "answer": str(record.get("answer") or ""), "tier": record.get("tier"),
            "mode": record.get("mode"), "build": record.get("build"),
            "message_id": message_id, "record": record}


def record_feedback(ws: Workspace, record: dict, message_id: int | None = None) -> int:
    """Store one feedback record; returns its id. Raises DatabaseUnavailable, ValueError."""
    with ws.write() as conn:
        return int(conn.execute(sa.insert(feedback).values(**_row(record, message_id))
                                .returning(feedback.c.id)).scalar_one())


def list_feedback(ws: Workspace, user: str | None = None) -> list[dict]:
    stmt = sa.select(feedback.c.record).order_by(feedback.c.id)
    if user is not None:
        stmt = stmt.where(feedback.c.user_key == user)
    with ws.read() as conn:
        return [r.record for r in conn.execute(stmt)]


def import_jsonl(ws: Workspace, path: Path | str) -> tuple[int, list[str]]:
    """Import a feedback.jsonl once (later calls, also from other servers, do nothing).
    Returns (lines imported, one problem line per line skipped). The file is left in place."""
    path = Path(path)
    key = f"feedback-import:{path.resolve()}"
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return 0, []
    except OSError as exc:
        return 0, [f"{path}: cannot be read ({exc.strerror or exc}); feedback not imported."]
    rows, problems = [], []
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise TypeError("not a JSON object")
            rows.append(_row(record))
        except (TypeError, ValueError) as exc:
            problems.append(f"{path}:{i}: skipped ({exc}).")
    try:
        with ws.write() as conn:
            conn.execute(sa.insert(meta).values(key=key, value=f"{len(rows)} lines"))
            if rows:
                conn.execute(sa.insert(feedback), rows)
    except sa_exc.IntegrityError:
        return 0, []  # imported before
    return len(rows), problems
