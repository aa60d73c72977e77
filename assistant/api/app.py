"""The HTTP API (FastAPI, served by uvicorn through `assistant serve`): the assistant's answers
with the CLI's JSON contract, an article's sections for a citation link, the index status, and
the OpenAI-compatible face (openai_face.py). Every route but the docs needs a token.

Errors are one line in OpenAI's shape, {"error": {"message", "type", "code"}}: 401 no, bad or
revoked token; 403 a user no longer allowed; 404 no such article; 413 a body over 1 MB; 422 a
request that does not parse or is too large; 429 over the rate limit (with Retry-After); 503
the index cannot answer."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..records import section_label
from ..ui.auth import AllowList
from . import deps, openai_face
from .access import ApiError, Gate
from .deps import CallerDep, check_history, check_question
from .settings import MAX_BODY_BYTES, ApiSettings
from .tokens import TokenStore

log = logging.getLogger("article_assistant.api")


# ------------------------------------------------------------------------------ requests

class Turn(BaseModel):
    """A chat turn of the history; only the user's questions are read (as follow-ups do)."""

    model_config = ConfigDict(extra="ignore")
    role: str = "user"
    content: str = ""


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str
    history: list[str | Turn] = Field(default_factory=list, description=(
        "earlier questions of the conversation (strings or {role, content} turns), oldest "
        "first: a follow-up such as 'Who leads them?' is read with the question before it"))
    sources: list[str] | None = Field(None, max_length=100_000, description=(
        "search only these articles (ids or source files); none: all"))
    k: int | None = Field(None, ge=1, le=50, description="passages to retrieve")
    llm: bool | None = Field(None, description=(
        "true/false force the LLM reader on/off; none: on when the server has an endpoint"))

    _question = field_validator("question")(check_question)

    @field_validator("history")
    @classmethod
    def _history(cls, value: list) -> list:
        check_history([v if isinstance(v, str) else v.content for v in value])
        return value


# ------------------------------------------------------------------------------ errors

def one_line(exc: RequestValidationError) -> str:
    """The first problem of a request that does not validate, as one line."""
    errors = exc.errors()
    if not errors:
        return "The request is not valid."
    e = errors[0]
    if e.get("type") == "json_invalid":
        ctx = e.get("ctx") or {}
        where = f" ({ctx['error']})" if ctx.get("error") else ""
        return f"The request body is not valid JSON{where}."
    loc = [str(x) for x in e.get("loc", ()) if x != "body"]
    msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
    if e.get("type") == "missing":
        msg = "required"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return (f"{'.'.join(loc)}: {msg}" if loc else msg) + more


def _error(exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


def install_errors(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return _error(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        return _error(ApiError(422, one_line(exc), code="invalid_request"))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        if exc.status_code == 404 and message == "Not Found":
            message = f"No such endpoint: {request.method} {request.url.path} (see /docs)."
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path} (see /docs)."
        return _error(ApiError(exc.status_code, message, headers=dict(exc.headers or {})))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("%s %s failed", request.method, request.url.path)
        return _error(ApiError(500, f"Internal error ({type(exc).__name__}); the server log "
                               "has the details.", "server_error"))



class BodyLimit:
    """A body declared (Content-Length) over MAX_BODY_BYTES is refused before it is read. Plain
    ASGI: FastAPI's @middleware wraps every response, streams included, for nothing."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            length = dict(scope["headers"]).get(b"content-length", b"")
            if length.isdigit() and int(length) > MAX_BODY_BYTES:
                response = _error(ApiError(413, f"The request body is {int(length):,} bytes; "
                                           f"the limit is {MAX_BODY_BYTES:,}.", code="too_large"))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


# ------------------------------------------------------------------------------ routes

def install_routes(app: FastAPI) -> None:
    @app.post("/v1/ask", tags=["assistant"], summary="Ask a question; the cited answer")
    def ask(body: AskRequest, request: Request, who: CallerDep) -> dict[str, Any]:
        """The answer in `assistant ask --json`'s contract: answer, tier, confidence, mode,
        citations (article, section, page, source, quote, passage), closest passages when it
        abstains, llm, timings."""
        history = [h if isinstance(h, str) else h.model_dump() for h in body.history]
        answer = deps.ask(request, body.question, history, body.k, body.sources, body.llm)
        return answer.to_json()

    @app.get("/v1/articles/{ref:path}", tags=["assistant"],
             summary="An article's sections, for a citation link")
    def article(ref: str, request: Request, who: CallerDep) -> dict[str, Any]:
        """`ref`: the article's id or its source file (a citation's `source`)."""
        info, sections = find_article(request.app.state, ref, deps.scope_of(request))
        return {"id": info.id, "title": info.title, "source": info.source,
                "sections": [{"section": section_label(info.title, s.heading_path),
                              "heading_path": list(s.heading_path), "page": s.page,
                              "start": s.start, "text": s.text} for s in sections]}

    @app.get("/v1/status", tags=["assistant"], summary="The index and the server")
    def status(request: Request, who: CallerDep) -> dict[str, Any]:
        """The fields of `assistant status` (stale: whether the corpus changed since the build,
        checked at most every 30 s), whether the LLM reader is on, and the server's counters."""
        state = request.app.state
        s = state.assistant.status()
        return {"build": s.build, "built_at": s.built_at, "counts": s.counts, "model": s.model,
                "precision": s.precision, "skipped": list(s.skipped), "stale": stale(state),
                "reload_error": s.reload_error or None,
                "llm": bool(state.assistant.llm_configured),
                "api": {"version": __version__, "started": state.started,
                        "uptime_s": round(time.time() - state.started_ts, 1),
                        "requests": state.stats.as_dict(),
                        "rate_per_minute": state.gate.api.rate_per_minute,
                        "burst": state.gate.api.burst,
                        "open_loopback": state.gate.api.open_loopback,
                        "you": {"user": who.user, "token": who.token_id, "admin": who.admin}}}


STALE_CHECK_SECONDS = 30.0


def stale(state) -> str | None:
    """Why the index is out of date with the corpus folder, or None; the walk of the corpus is
    made at most every STALE_CHECK_SECONDS (status pages get polled)."""
    from ..service import index_state

    checked_at, reason = state.stale
    if time.monotonic() - checked_at > STALE_CHECK_SECONDS:
        reason = index_state(state.assistant.settings).stale
        state.stale = (time.monotonic(), reason)
    return reason


def find_article(state, ref: str, scope=None):
    """(ArticleInfo, sections) by article id or source file; ApiError 404 when the current
    build has neither, or `scope` may not read it (not found, rather than revealing it). The
    source -> id table is made once per build."""
    from ..access import AccessDenied

    assistant = state.assistant
    try:
        return assistant.article(ref, scope=scope)
    except KeyError:
        pass
    except AccessDenied:
        raise ApiError(404, f"No article {ref!r} in the current index (give an article id or "
                       "its source file).", code="not_found") from None
    build = assistant.build_name
    if state.sources[0] != build:
        state.sources = (build, {a.source: a.id for a in assistant.articles()})
    article_id = state.sources[1].get(ref)
    if article_id is not None:
        try:
            return assistant.article(article_id, scope=scope)
        except AccessDenied:
            pass
        except KeyError:  # a rebuild in between: the next request makes the table again
            pass
    raise ApiError(404, f"No article {ref!r} in the current index (give an article id or its "
                   "source file).", code="not_found")


def create_app(assistant, tokens: TokenStore, api: ApiSettings | None = None,
               allow: AllowList | None = None) -> FastAPI:
    """The API over one `Assistant` (it follows rebuilds by itself). `allow`: the app's
    allow-list, which every token's user must still be on."""
    api = api or ApiSettings()
    app = FastAPI(title="Article Assistant API", version=__version__,
                  description=(
                      "Cited answers from the articles. `POST /v1/ask` returns the contract of "
                      "`assistant ask --json`; `/v1/chat/completions` speaks the OpenAI chat "
                      "API (the model is `article-assistant`). Send `Authorization: Bearer "
                      "<token>` (tokens: the app's sidebar, or `assistant token create`)."))
    app.state.assistant = assistant
    app.state.gate = Gate(tokens, api, allow)
    app.state.stats = deps.Stats()
    app.state.started_ts = time.time()
    app.state.started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    app.state.sources = ("", {})  # (build name, {source file: article id})
    app.state.stale = (-STALE_CHECK_SECONDS, None)  # (checked at, reason)
    install_errors(app)
    app.add_middleware(BodyLimit)
    install_routes(app)
    openai_face.install(app)
    return app
