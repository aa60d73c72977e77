"""`ASSISTANT_LLM_VERIFY=model`: the model's answer is checked by the deterministic gates
(figures, names, citation range), then by one more request to the same endpoint that judges
all remaining sentences at once (assistant/verify/model_check.py). The check shares the
answer's deadline (ASSISTANT_LLM_TIMEOUT covers both requests), and the chat is shown the
sentences only once they are checked: nothing unchecked reaches `on_text`.

A check that fails (HTTP error, unreachable, out of time) means the answer could not be
verified: the extractive answer is shown with that reason. A reply that does not parse counts
every sentence as unsupported (the answer could not be checked).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from ..records import Passage
from . import llm, verify
from .verify.model_check import check_messages, parse_verdicts

# The deterministic gates alone (figures and names in the cited passages, the citation range):
# the meaning test, the polarity rule and "all figures in one span" are left to the model.
GATES_ONLY = verify.VerifySettings(min_similarity=-1.0, min_overlap=0.0, figures_in_span=False,
                                   polarity=False)
CHECK_MAX_TOKENS = 400


def complete(reader: llm.Reader, messages: list[dict], timeout: float) -> str:
    """One non-streamed request within `timeout` seconds; LLMUnavailable with a one-line reason
    on any failure."""
    if timeout <= 0:
        raise llm.LLMUnavailable(f"the endpoint took longer than {reader.settings.timeout:g} s")
    try:
        client: Any = reader.client.with_options(timeout=timeout)  # the openai client
        reply = client.chat.completions.create(
            model=reader.model, messages=messages, stream=False, temperature=0,
            max_tokens=CHECK_MAX_TOKENS)
        return reply.choices[0].message.content or ""
    except llm.LLMUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - any client, network or protocol failure
        if "Timeout" in type(exc).__name__:
            raise llm.LLMUnavailable(f"the endpoint took longer than "
                                     f"{reader.settings.timeout:g} s") from None
        raise llm.LLMUnavailable(llm._why(exc)) from None


def read_checked(reader: llm.Reader, question: str, passages: Sequence[Passage], encode,
                 previous_question: str = "",
                 on_text: Callable[[str], None] | None = None) -> llm.Reading:
    """Like `llm.read`, with the model check instead of the meaning rules."""
    deadline = time.monotonic() + reader.settings.timeout
    t0 = time.perf_counter()
    reading = llm.read(reader, question, passages, encode, previous_question, None, GATES_ONLY)
    reading.verify_mode = "model"
    v = reading.verification
    if reading.outcome != "answered" or v is None:
        return reading
    sentences = [(claim.text, sorted(supports)) for claim, supports in v.kept]
    texts = [p.chunk.text for p in passages]
    try:
        reply = complete(reader, check_messages(question, texts, sentences),
                         deadline - time.monotonic())
    except llm.LLMUnavailable as exc:
        reading.outcome = "unavailable"
        reading.fallback = f"checking its answer failed: {exc}"
        reading.seconds = time.perf_counter() - t0
        return reading
    verdicts, problem = parse_verdicts(reply, len(sentences))
    kept, dropped = [], list(v.dropped)
    for (claim, supports), ok in zip(v.kept, verdicts):
        if ok:
            kept.append((claim, supports))
        else:
            dropped.append((claim.text, problem or "the model check found the cited passage(s) "
                            "do not support it"))
    reading.verification = verify.Verification(kept, dropped, False, v.removed_citations)
    reading.seconds = time.perf_counter() - t0
    if not kept:
        reading.outcome = "unchecked"
        reading.fallback = problem or "the model check found no sentence supported"
        return reading
    reading.shown = [llm._render(k) for k in kept]
    if on_text is not None:
        on_text(" ".join(reading.shown))
    return reading
