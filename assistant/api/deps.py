"""What the API's routes share: who is calling (a FastAPI dependency over `access.Gate`), and
asking the one `Assistant` with the request's question, counted and cancellable."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from ..errors import AssistantError
from ..records import Answer
from .access import ApiError, Caller, Gate
from .settings import MAX_HISTORY_CHARS, MAX_HISTORY_ITEMS, MAX_QUESTION_CHARS

PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


class Cancelled(Exception):
    """The client went away: the LLM reading stops at its next verified sentence."""


@dataclass
class Stats:
    """Counters for /v1/status (since the server started)."""

    answered: int = 0
    failed: int = 0
    cancelled: int = 0
    in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **changes: int) -> None:
        with self._lock:
            for k, v in changes.items():
                setattr(self, k, getattr(self, k) + v)

    def as_dict(self) -> dict:
        with self._lock:
            return {"answered": self.answered, "failed": self.failed,
                    "cancelled": self.cancelled, "in_flight": self.in_flight}


async def caller(request: Request) -> Caller:
    """The request's caller; raises ApiError (401/403/429). Async: a dict lookup and a stat of
    the token file, cheaper than a trip to the thread pool."""
    gate: Gate = request.app.state.gate
    headers = request.headers
    who = gate.check(headers.get("authorization"),
                     request.client.host if request.client else None,
                     proxied=any(h in headers for h in PROXY_HEADERS))
    request.state.caller = who  # for scope_of: what the token's user may read
    return who


def scope_of(request: Request):
    """The collections the request's user may read under the access rules, read now (None: no
    rules, everything open). A tokenless loopback client reads what `default` opens."""
    from .. import access

    path = access.rules_path()
    if path is None:
        return None
    who = getattr(request.state, "caller", None)
    user = getattr(who, "user", None)
    return access.scope_for(access.Reader.of(user) if user else access.Reader(), path,
                            admins=request.app.state.gate.api.admins)


def check_question(question: str) -> str:
    if len(question) > MAX_QUESTION_CHARS:
        raise ValueError(f"the question is {len(question):,} characters long; the limit is "
                         f"{MAX_QUESTION_CHARS:,}")
    return question


def check_history(texts: list[str]) -> None:
    if len(texts) > MAX_HISTORY_ITEMS:
        raise ValueError(f"{len(texts)} earlier messages; the limit is {MAX_HISTORY_ITEMS}")
    size = sum(len(t) for t in texts)
    if size > MAX_HISTORY_CHARS:
        raise ValueError(f"the earlier messages hold {size:,} characters; the limit is "
                         f"{MAX_HISTORY_CHARS:,}")


CallerDep = Annotated[Caller, Depends(caller)]


def check_llm(assistant, llm: bool | None) -> None:
    """`llm: true` without an endpoint is refused (as `assistant ask --llm` is), not quietly
    answered without the model."""
    if llm and not assistant.llm_configured:
        raise ApiError(400, "llm: true needs an LLM endpoint on the server (ASSISTANT_LLM_URL "
                       "is not set); leave llm out for the extractive answer.", code="no_llm")


def ask(request: Request, question: str, history: Sequence = (), k: int | None = None,
        sources: Sequence[str] | None = None, llm: bool | None = None,
        cancel: threading.Event | None = None) -> Answer:
    """The assistant's answer, as the CLI and the app get it. Runs on a worker thread (the
    facade is thread-safe). `cancel` set: a running LLM reading stops (raises Cancelled)."""
    assistant = request.app.state.assistant
    stats: Stats = request.app.state.stats
    check_llm(assistant, llm)
    use_llm = assistant.llm_configured if llm is None else llm
    on_text = None
    if cancel is not None and use_llm:
        def on_text(_verified: str) -> None:
            if cancel.is_set():
                raise Cancelled()
    stats.add(in_flight=1)
    try:
        if cancel is not None and cancel.is_set():  # the client left before the work began
            raise Cancelled()
        answer = assistant.ask(question, history=list(history), k=k,
                               sources=list(sources) if sources is not None else None,
                               llm=llm, on_text=on_text, scope=scope_of(request))
    except Cancelled:
        stats.add(cancelled=1)
        raise
    except AssistantError as exc:  # e.g. the index folder was removed under the server
        stats.add(failed=1)
        raise ApiError(503, str(exc), "server_error", code="unavailable") from None
    except Exception:
        stats.add(failed=1)
        raise
    finally:
        stats.add(in_flight=-1)
    stats.add(answered=1)
    return answer
