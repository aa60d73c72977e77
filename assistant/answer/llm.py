"""The optional LLM reader: any OpenAI-compatible endpoint (Ollama, vLLM, a llama.cpp server,
OpenAI or Azure) writes the answer from the numbered top passages, and every sentence it writes is
checked against the passages it cites (assistant/answer/verify/) before anyone sees it.

What is sent: the question (for a follow-up, the earlier question it refers to as well) and the
numbered passages with their article and section. Nothing else: no file paths, no history of
answers, no user names.

The product's promise is kept here: a sentence is shown only when a passage it cites supports it;
anything else is dropped and reported, and when nothing survives, the model declines, or the
endpoint fails or is too slow, `compose` returns the extractive answer with that reason in one
line.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import bounded
from ..errors import AssistantError
from ..records import Answer, Citation, Passage
from ..safe_text import redact_urls
from . import llm_outcomes as outcomes
from . import verify
from .verify.claims import ClaimStream

DECLINE = verify.DECLINE_TOKEN  # the one spelling the verifier recognises

SYSTEM_PROMPT = (
    "You answer questions about a collection of articles using ONLY the numbered passages you "
    "are given.\n"
    "Rules:\n"
    "1. Use only facts stated in the passages. Do not add anything from your own knowledge.\n"
    "2. End every sentence with the number(s) of the passage(s) it comes from, in square "
    "brackets, like [1] or [2][3].\n"
    f"3. If the passages do not contain the answer, reply with exactly {DECLINE} and nothing "
    "else.\n"
    "4. Be brief: one to three sentences. Copy names, numbers and dates exactly as the passages "
    "write them."
)


class LLMUnavailable(AssistantError):
    """The reader cannot be used (not configured, client not installed); a one-line reason."""


@dataclass(frozen=True)
class LLMSettings:
    url: str
    model: str = ""  # empty: the first model the endpoint lists
    api_key: str = ""
    timeout: float = 30.0  # seconds for the whole answer, first byte to last
    max_tokens: int = 300
    passages: int = 5
    # What is read of a reply at most, whatever the endpoint sends (max_tokens is only a request).
    max_chars: int = 4000
    max_sentences: int = 20

    @classmethod
    def from_settings(cls, settings) -> LLMSettings:
        if not settings.llm_url:
            raise LLMUnavailable("No LLM endpoint is configured: set ASSISTANT_LLM_URL (an "
                                 "OpenAI-compatible base URL, e.g. http://localhost:11434/v1).")
        return cls(url=settings.llm_url, model=settings.llm_model, api_key=settings.llm_api_key,
                   timeout=settings.llm_timeout, max_tokens=settings.llm_max_tokens,
                   max_chars=settings.llm_max_chars, max_sentences=settings.llm_max_sentences)


def build_messages(question: str, passages: Sequence[Passage],
                   previous_question: str = "") -> list[dict]:
    blocks = []
    for n, p in enumerate(passages, start=1):
        where = (p.article_title if p.section == p.article_title
                 else f"{p.article_title} — {p.section}")
        blocks.append(f"[{n}] ({where})\n{p.chunk.text.strip()}")
    asked = question if not previous_question else (
        f"{question}\n(This follows the earlier question: {previous_question})")
    user = "Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {asked}"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


class Reader:
    """A streaming chat client for one endpoint. Thread-safe (the openai client is)."""

    def __init__(self, settings: LLMSettings):
        try:
            import openai
        except ImportError:
            raise LLMUnavailable("The LLM reader needs the openai package: "
                                 "pip install 'article-assistant[llm]'.") from None
        self.settings = settings
        self.client = openai.OpenAI(base_url=settings.url, api_key=settings.api_key or "none",
                                    timeout=settings.timeout, max_retries=0)
        self._model = settings.model

    @property
    def model(self) -> str:
        if not self._model:
            try:
                self._model = bounded.call(self.settings.timeout, lambda: next(
                    iter(self.client.models.list())).id)
            except Exception as exc:  # noqa: BLE001 - reported as the fallback reason
                raise LLMUnavailable(f"the endpoint lists no model ({_why(exc)}); set "
                                     "ASSISTANT_LLM_MODEL") from None
        return self._model

    def stream(self, messages: list[Any]) -> Generator[str, None, None]:
        """The answer's text as it arrives. Raises LLMUnavailable with a one-line reason on any
        failure, including the whole answer taking longer than the timeout. The HTTP stream is
        read in a thread and this generator waits on it with the time that is left, so an
        endpoint that trickles a byte now and then (each read within the client's per-read
        timeout) cannot hold the answer past the deadline."""
        model = self.model

        def open_stream():
            return self.client.chat.completions.create(
                model=model, messages=messages, stream=True, temperature=0,
                max_tokens=self.settings.max_tokens)

        items = bounded.iterate(open_stream, _chunk_text, self.settings.timeout)
        try:
            for kind, value in items:
                if kind == "timeout":
                    raise LLMUnavailable(f"the endpoint did not answer in time (took longer "
                                         f"than {self.settings.timeout:g} s)")
                if kind == "error":
                    raise LLMUnavailable(_why(value))
                yield value
        finally:
            items.close()


def _chunk_text(chunk) -> str | None:
    choices = getattr(chunk, "choices", None) or []
    if not choices:
        return None
    delta = getattr(choices[0], "delta", None)
    return getattr(delta, "content", None) if delta is not None else None


def _why(exc: BaseException) -> str:
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    if status:
        return f"the endpoint answered HTTP {status}"
    if "Timeout" in name:
        return "the endpoint did not answer in time"
    if "Connection" in name:
        return "the endpoint could not be reached"
    text = redact_urls(" ".join(str(exc).split()))[:120]
    return f"{name}: {text}" if text else name


@dataclass
class Reading:
    """What came back and what survived verification."""

    raw: str = ""
    verification: verify.Verification | None = None
    fallback: str | None = None  # why the extractive answer is shown instead
    seconds: float = 0.0
    # How it ended: "answered" (some sentence verified), "declined" (NOT_IN_ARTICLES: abstain),
    # "unchecked" (it answered but nothing survived verification) or "unavailable" (the
    # endpoint could not be used: the fallback says why).
    outcome: str = "unavailable"
    verify_mode: str = "rules"  # "model": a second request judged what the rules' gates let by
    shown: list[str] = field(default_factory=list)  # verified sentences, in order, with markers
    cut: str = ""  # why the reply was cut short (a cap on its length), or ""


def read(reader: Reader, question: str, passages: Sequence[Passage], encode,
         previous_question: str = "", on_text: Callable[[str], None] | None = None,
         settings: verify.VerifySettings = verify.DEFAULT_VERIFY_SETTINGS) -> Reading:
    """Stream the model's answer and verify it sentence by sentence. `on_text(shown)` is called
    with the verified text so far each time a sentence passes (the chat shows only verified
    text, so nothing unchecked ever reaches the page)."""
    t0 = time.perf_counter()
    deadline = time.monotonic() + reader.settings.timeout
    reading = Reading()
    texts = [p.chunk.text for p in passages]
    spans = [_relative_spans(p) for p in passages]
    encode = bounded.remembering(encode)  # each passage span is encoded once, not once per sentence
    cap_chars, cap_sents = reader.settings.max_chars, reader.settings.max_sentences
    parts: list[str] = []
    size = 0
    claims = ClaimStream()  # sentences settled as the text arrives: no re-split per piece
    streamed: list[verify.Verification] = []  # verifications of the sentences so far, in order

    def emit(upto: int) -> None:
        for claim in claims.claims[len(streamed):min(upto, cap_sents)]:
            if time.monotonic() > deadline:
                raise LLMUnavailable(f"the answer was not ready in time (took longer than "
                                     f"{reader.settings.timeout:g} s)")
            v = verify.verify(_with_markers(claim), texts, encode, spans, settings, question)
            streamed.append(v)
            if v.kept:
                reading.shown.append(_render(v.kept[0]))
                if on_text:
                    on_text(" ".join(reading.shown))

    pieces = reader.stream(build_messages(question, passages, previous_question))
    try:
        for piece in pieces:
            piece = piece[: cap_chars - size]
            parts.append(piece)
            size += len(piece)
            claims.feed(piece)
            if on_text is not None:
                emit(claims.final)
            if size >= cap_chars or claims.final >= cap_sents:
                reading.cut = (f"the reply was cut at {size:,} characters" if size >= cap_chars
                               else f"the reply was cut after {cap_sents} sentences")
                break
        reading.raw = "".join(parts)
        claims.close()
        if on_text is not None and not verify.is_declined(reading.raw):
            # Every sentence was verified as it completed: the answer is those verdicts, not a
            # second pass over the same sentences.
            emit(len(claims.claims))  # the last sentence is complete now
            reading.verification = verify.Verification(
                kept=[k for v in streamed for k in v.kept],
                dropped=[d for v in streamed for d in v.dropped], declined=False,
                removed_citations=[r for v in streamed for r in v.removed_citations])
        else:
            raw = reading.raw
            if reading.cut and len(claims.claims) > cap_sents:
                raw = "\n".join(_with_markers(c) for c in claims.claims[:cap_sents])
            reading.verification = verify.verify(raw, texts, encode, spans, settings, question)
    except LLMUnavailable as exc:
        reading.raw = "".join(parts)
        reading.verification = None
        reading.fallback = str(exc)
        reading.seconds = time.perf_counter() - t0
        return reading
    finally:
        pieces.close()
    reading.seconds = time.perf_counter() - t0
    v = reading.verification
    if v.declined:
        reading.outcome = "declined"
    elif not reading.raw.strip():
        reading.fallback = "the language model returned no text"
    elif not v.kept:
        reading.outcome = "unchecked"
        reading.fallback = ("no sentence of the language model's answer is supported by the "
                            "passage it cites")
    else:
        reading.outcome = "answered"
    return reading


def _relative_spans(p: Passage) -> list[tuple[int, int]]:
    """The passage's sentence spans relative to its own text."""
    return [(a - p.chunk.start, b - p.chunk.start) for a, b in p.chunk.sentences]


def _with_markers(claim: verify.Claim) -> str:
    return claim.text + "".join(f" [{n}]" for n in claim.cited)


def _render(kept) -> str:
    claim, supports = kept
    return claim.text + "".join(f" [{n}]" for n in sorted(supports))


def compose(question: str, reading: Reading, passages: Sequence[Passage], model: str,
            extractive: Answer) -> Answer:
    """The verified answer with its citations renumbered 1..N in order of first use, each
    citation quoting the span of its passage that supports the sentence; or, when nothing
    survived, the extractive answer with the reason. Either way `llm` says what happened."""
    v = reading.verification
    dropped = [{"sentence": s, "why": why} for s, why in (v.dropped if v else [])]
    info = {"model": model, "dropped": dropped, "fallback": reading.fallback,
            "declined": reading.outcome == "declined",
            "unchecked": reading.outcome == "unchecked", "verify": reading.verify_mode}
    if reading.cut:
        info["cut"] = reading.cut
    timings = {**extractive.timings_ms, "llm": reading.seconds * 1000}
    if reading.outcome == "declined":  # a capable reader's "no" outweighs extractive confidence
        return outcomes.declined(extractive, len(passages), info, timings)
    if reading.fallback:  # set by `read` whenever nothing verified survives
        return outcomes.fallback(extractive, reading.fallback, reading.outcome == "unchecked",
                                 info, timings)
    numbers: dict[tuple[int, int, int], int] = {}  # (passage, span start, span end) -> [n]
    citations: list[Citation] = []
    sentences = []
    assert v is not None  # `read` sets a fallback whenever there is no verification
    for claim, supports in v.kept:
        marks = []
        for n_passage, support in sorted(supports.items()):
            p = passages[n_passage - 1]
            a, b = support.span
            raw = p.chunk.text[a:b]
            a, b = a + (len(raw) - len(raw.lstrip())), b - (len(raw) - len(raw.rstrip()))
            key = (n_passage, a, b)
            if key not in numbers:
                numbers[key] = len(citations) + 1
                citations.append(Citation.quoting(numbers[key], p, a, b, support.similarity))
            marks.append(numbers[key])
        sentences.append(claim.text + " " + "".join(f"[{m}]" for m in marks))
    notice = extractive.notice
    if reading.cut:
        notice = ((notice + " ") if notice else "") + (
            f"The language model's reply was longer than allowed; {reading.cut}.")
    if dropped:
        notice = ((notice + " ") if notice else "") + (
            f"Part of the generated answer was left out ({len(dropped)} sentence(s)): no cited "
            "passage supports it.")
    return dataclasses.replace(extractive, text=" ".join(sentences), citations=tuple(citations),
                               abstained=False, timings_ms=timings, notice=notice, tier="answer",
                               mode="llm", llm=info)


