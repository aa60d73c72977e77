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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import AssistantError
from ..records import Answer, Citation, Passage
from . import verify

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

    @classmethod
    def from_settings(cls, settings) -> LLMSettings:
        if not settings.llm_url:
            raise LLMUnavailable("No LLM endpoint is configured: set ASSISTANT_LLM_URL (an "
                                 "OpenAI-compatible base URL, e.g. http://localhost:11434/v1).")
        return cls(url=settings.llm_url, model=settings.llm_model, api_key=settings.llm_api_key,
                   timeout=settings.llm_timeout, max_tokens=settings.llm_max_tokens)


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
                models = self.client.models.list()
                self._model = next(iter(models)).id
            except Exception as exc:  # noqa: BLE001 - reported as the fallback reason
                raise LLMUnavailable(f"the endpoint lists no model ({_why(exc)}); set "
                                     "ASSISTANT_LLM_MODEL") from None
        return self._model

    def stream(self, messages: list[Any]) -> Iterator[str]:
        """The answer's text as it arrives. Raises LLMUnavailable with a one-line reason on any
        failure, including the whole answer taking longer than the timeout."""
        deadline = time.monotonic() + self.settings.timeout
        try:
            stream = self.client.chat.completions.create(
                model=self.model, messages=messages, stream=True, temperature=0,
                max_tokens=self.settings.max_tokens)
            try:
                for chunk in stream:
                    if time.monotonic() > deadline:
                        raise LLMUnavailable(f"the endpoint took longer than "
                                             f"{self.settings.timeout:g} s")
                    choices = getattr(chunk, "choices", None) or []
                    if not choices:
                        continue
                    delta = getattr(choices[0], "delta", None)
                    text = getattr(delta, "content", None) if delta is not None else None
                    if text:
                        yield text
            finally:
                close = getattr(stream, "close", None)
                if close:
                    close()
        except LLMUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - any client, network or protocol failure
            raise LLMUnavailable(_why(exc)) from None


def _why(exc: BaseException) -> str:
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    if status:
        return f"the endpoint answered HTTP {status}"
    if "Timeout" in name:
        return "the endpoint did not answer in time"
    if "Connection" in name:
        return "the endpoint could not be reached"
    text = " ".join(str(exc).split())[:120]
    return f"{name}: {text}" if text else name


@dataclass
class Reading:
    """What came back and what survived verification."""

    raw: str = ""
    verification: verify.Verification | None = None
    fallback: str | None = None  # why the extractive answer is shown instead
    seconds: float = 0.0
    shown: list[str] = field(default_factory=list)  # verified sentences, in order, with markers


def read(reader: Reader, question: str, passages: Sequence[Passage], encode,
         previous_question: str = "", on_text: Callable[[str], None] | None = None,
         settings: verify.VerifySettings = verify.DEFAULT_VERIFY_SETTINGS) -> Reading:
    """Stream the model's answer and verify it sentence by sentence. `on_text(shown)` is called
    with the verified text so far each time a sentence passes (the chat shows only verified
    text, so nothing unchecked ever reaches the page)."""
    t0 = time.perf_counter()
    reading = Reading()
    texts = [p.chunk.text for p in passages]
    spans = [_relative_spans(p) for p in passages]
    parts: list[str] = []
    judged = 0  # complete sentences already verified while streaming
    streamed: list[verify.Verification] = []  # their verifications, in order

    def emit(upto: int) -> None:
        nonlocal judged
        claims = verify.split_claims("".join(parts))
        for claim in claims[judged:upto]:
            v = verify.verify(_with_markers(claim), texts, encode, spans, settings)
            streamed.append(v)
            if v.kept:
                reading.shown.append(_render(v.kept[0]))
                if on_text:
                    on_text(" ".join(reading.shown))
        judged = max(judged, min(upto, len(claims)))

    try:
        for piece in reader.stream(build_messages(question, passages, previous_question)):
            parts.append(piece)
            if on_text is not None:
                n = len(verify.split_claims("".join(parts)))
                if n - 1 > judged:  # every sentence but the last is complete
                    emit(n - 1)
    except LLMUnavailable as exc:
        reading.raw = "".join(parts)
        reading.fallback = str(exc)
        reading.seconds = time.perf_counter() - t0
        return reading
    reading.raw = "".join(parts)
    if on_text is not None and not verify.is_declined(reading.raw):
        # Every sentence was verified as it completed: the answer is those verdicts, not a
        # second pass over the same sentences.
        emit(len(verify.split_claims(reading.raw)))  # the last sentence is complete now
        reading.verification = verify.Verification(
            kept=[k for v in streamed for k in v.kept],
            dropped=[d for v in streamed for d in v.dropped], declined=False,
            removed_citations=[r for v in streamed for r in v.removed_citations])
    else:
        reading.verification = verify.verify(reading.raw, texts, encode, spans, settings)
    reading.seconds = time.perf_counter() - t0
    v = reading.verification
    if v.declined:
        reading.fallback = "the language model found no answer in the passages"
    elif not reading.raw.strip():
        reading.fallback = "the language model returned no text"
    elif not v.kept:
        reading.fallback = ("no sentence of the language model's answer is supported by the "
                            "passage it cites")
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
    info = {"model": model, "dropped": dropped, "fallback": reading.fallback}
    timings = {**extractive.timings_ms, "llm": reading.seconds * 1000}
    if reading.fallback:  # set by `read` whenever nothing verified survives
        notice = f"Showing the extractive answer: {reading.fallback}."
        notice = (extractive.notice + " " if extractive.notice else "") + notice
        return dataclasses.replace(extractive, notice=notice, llm=info, timings_ms=timings)
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
    if dropped:
        notice = ((notice + " ") if notice else "") + (
            f"Part of the generated answer was left out ({len(dropped)} sentence(s)): no cited "
            "passage supports it.")
    return dataclasses.replace(extractive, text=" ".join(sentences), citations=tuple(citations),
                               abstained=False, timings_ms=timings, notice=notice, tier="answer",
                               mode="llm", llm=info)


