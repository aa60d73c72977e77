"""The OpenAI-compatible face: `GET /v1/models` and `POST /v1/chat/completions`, streamed or
not, so that chat clients (Open WebUI, LibreChat, a Slack bot, the `openai` library) get the same
cited answers as the page.

The reply's content is the answer with its [n] markers and a Markdown "Sources" list (title ›
section, file, and the quote). Article text and answers are untrusted: everything is escaped so
a client's Markdown renderer shows it as text (no live link, image, HTML or autolink). The
structured answer, in the contract of `/v1/ask`, rides along as the extra field
`article_assistant` of the completion and of the final stream chunk.

The conversation comes from the messages: the last one is the question, the user's earlier ones
are its history (a follow-up is read with the question before it). System messages are ignored:
no prompt changes how answers are made or checked.

Streaming: the role comes at once; the content once the answer is made (with the LLM reader,
once every sentence is verified: what is sent is never retracted, and its [n] markers are
numbered as in the final sources list). A client that goes away stops an LLM reading at its
next verified sentence."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..records import Answer
from ..service import POSSIBLE_LABEL
from ..ui.support import escape_markdown, source_label
from . import deps
from .access import ApiError
from .deps import CallerDep, check_history, check_question

MODEL_ID = "article-assistant"
OWNER = "article-assistant"


# ------------------------------------------------------------------------------ requests

class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None

    @property
    def text(self) -> str:
        """The message's text; of a multi-part message, its text parts joined."""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(str(p.get("text", "")) for p in self.content or ()
                         if p.get("type") == "text")


class ChatRequest(BaseModel):
    """OpenAI's chat request. Sampling options (temperature, max_tokens, …) are accepted and
    ignored: answers are quoted or verified, not sampled. Extras: k, sources, llm as in /v1/ask."""

    model_config = ConfigDict(extra="allow")
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    k: int | None = Field(None, ge=1, le=50)
    sources: list[str] | None = Field(None, max_length=100_000)
    llm: bool | None = None

    @field_validator("messages")
    @classmethod
    def _messages(cls, value: list[ChatMessage]) -> list[ChatMessage]:
        if value[-1].role != "user":
            raise ValueError(f"the last message must be the user's question (it is the "
                             f"{value[-1].role!r} message)")
        check_question(value[-1].text)
        check_history([m.text for m in value[:-1]])
        return value

    @property
    def question(self) -> str:
        return self.messages[-1].text

    @property
    def history(self) -> list[str]:
        """The user's earlier messages, oldest first: what the page passes as history."""
        return [m.text for m in self.messages[:-1] if m.role == "user"]


# ------------------------------------------------------------------------------ content

_WWW = re.compile("(?i)\\bwww\u2060?\\.")  # escape_markdown puts a word joiner after "www"


def md(text: str) -> str:
    """Untrusted text as Markdown that shows exactly that text on one line: escape_markdown (no
    emphasis, links, images, HTML, code), and no autolinks either (GFM links bare www. and
    e-mail addresses; `https://` is already broken by the escaped colon)."""
    flat = re.sub(r"\s+", " ", str(text or "")).strip()
    return _WWW.sub(lambda m: m.group(0)[:3] + "\\.", escape_markdown(flat)).replace("@", "\\@")


def content_markdown(answer: Answer) -> str:
    """The reply as a chat client shows it: notice, answer with [n] markers, then the sources
    (or, when it abstains, the closest passages)."""
    parts = []
    if answer.notice:
        parts.append(f"_{md(answer.notice)}_")
    if answer.tier == "possible":
        parts.append(f"**{md(POSSIBLE_LABEL)}**")
    parts.append(md(answer.text))
    if answer.citations:
        lines = [f"- **\\[{c.n}\\]** {md(source_label(c.article, c.section, c.page))} "
                 f"({md(c.source)}): “{md(c.quote)}”" for c in answer.citations]
        parts.append("**Sources**\n\n" + "\n".join(lines))
    elif answer.passages:
        lines = []
        for p in answer.passages[:3]:
            text = re.sub(r"\s+", " ", p.chunk.text).strip()
            cut = text[:200] + ("…" if len(text) > 200 else "")
            lines.append(f"- {md(source_label(p.article_title, p.section, p.chunk.page))} "
                         f"({md(p.source)}): {md(cut)}")
        parts.append("**Closest passages**\n\n" + "\n".join(lines))
    return "\n\n".join(parts)


def pieces(content: str) -> list[str]:
    """The content cut for streaming: sentence by sentence, line by line (joined back, exact)."""
    return [p for p in re.split(r"(?<=[.!?\]”:] )(?=\S)|(?<=\n)", content) if p] or [""]


def _usage(request: ChatRequest, content: str) -> dict:
    """Word counts: the assistant has no tokenizer of its own for clients to be billed by."""
    prompt = sum(len(m.text.split()) for m in request.messages)
    completion = len(content.split())
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def completion(request: ChatRequest, answer: Answer, cid: str, created: int) -> dict:
    content = content_markdown(answer)
    return {"id": cid, "object": "chat.completion", "created": created, "model": MODEL_ID,
            "system_fingerprint": answer.build_id or None,
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": content,
                                     "refusal": None}}],
            "usage": _usage(request, content), "article_assistant": answer.to_json()}


def _sse(obj: Any) -> str:
    return f"data: {obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)}\n\n"


async def stream(request: Request, body: ChatRequest, cid: str, created: int
                 ) -> AsyncIterator[str]:
    def chunk(delta: dict, finish: str | None = None, **extra) -> dict:
        return {"id": cid, "object": "chat.completion.chunk", "created": created,
                "model": MODEL_ID, "system_fingerprint": None,
                "choices": [{"index": 0, "delta": delta, "logprobs": None,
                             "finish_reason": finish}], **extra}

    cancel = threading.Event()
    # Who counts a client that left: deps.ask once it has begun, else this stream. The worker
    # thread and this `finally` race for the one claim (anyio can cancel the await before the
    # thread starts, or abandon a thread that has not started yet), so it is counted once.
    claim = _Claim()

    def run():
        if not claim.take():  # the stream was cancelled (and counted) before the thread ran
            raise deps.Cancelled()
        return deps.ask(request, body.question, body.history, body.k, body.sources, body.llm,
                        cancel)

    try:
        yield _sse(chunk({"role": "assistant", "content": ""}))
        try:
            answer = await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
        except ApiError as exc:  # the status line is sent: say it the way OpenAI does mid-stream
            yield _sse(exc.body())
            yield _sse("[DONE]")
            return
        content = content_markdown(answer)
        for piece in pieces(content):
            yield _sse(chunk({"content": piece}))
        yield _sse(chunk({}, "stop", article_assistant=answer.to_json()))
        if (body.stream_options or {}).get("include_usage"):
            yield _sse({**chunk({}), "choices": [], "usage": _usage(body, content)})
        yield _sse("[DONE]")
    finally:
        cancel.set()  # a client that left: a running LLM reading stops at its next sentence
        if claim.take():
            request.app.state.stats.add(cancelled=1)


class _Claim:
    """A flag two threads race to take; exactly one wins."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._taken = False

    def take(self) -> bool:
        with self._lock:
            taken, self._taken = self._taken, True
            return not taken


# ------------------------------------------------------------------------------ routes

def install(app: FastAPI) -> None:
    @app.get("/v1/models", tags=["openai"], summary="The one model: the article assistant")
    async def models(who: CallerDep) -> dict[str, Any]:
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model",
                                            "created": 0, "owned_by": OWNER}]}

    @app.post("/v1/chat/completions", tags=["openai"],
              summary="OpenAI chat completions (stream or not) with cited answers")
    async def chat(body: ChatRequest, request: Request, who: CallerDep):
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        deps.check_llm(request.app.state.assistant, body.llm)  # before a stream starts
        if body.stream:
            return StreamingResponse(stream(request, body, cid, created),
                                     media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache",
                                              "X-Accel-Buffering": "no"})
        run = partial(deps.ask, request, body.question, body.history, body.k, body.sources,
                      body.llm, None)
        answer = await anyio.to_thread.run_sync(run)
        return completion(body, answer, cid, created)
