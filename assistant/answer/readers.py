"""Answer modes. Every question gets the extractive answer first (it is cheap, and it is what a
failing reader falls back to); a mode's reader then reads that answer's passages and returns its
own Answer. A new mode is one module with a reader and one `register` line below.

    mode           reader
    extractive     the extractive answer as it is (sentences copied from the passages)
    llm            an OpenAI-compatible model, its sentences checked by the verifier (llm_mode.py)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..config import Settings
from ..records import Answer


@dataclass(frozen=True)
class ReadContext:
    """What a reader gets besides the extractive answer."""

    previous: str = ""  # the conversation's last question, when this one follows it
    on_text: Callable[[str], None] | None = None  # called with the verified text so far
    encode: Callable | None = None  # the query encoder (the verifier compares meanings)


class Mode(Protocol):
    """A reader: made once per Assistant from the settings, then called for each question."""

    def __call__(self, extractive: Answer, context: ReadContext) -> Answer: ...


MODES: dict[str, Callable[[Settings], Mode]] = {}


def register(mode: str, make: Callable[[Settings], Mode]) -> None:
    MODES[mode] = make


class Extractive:
    def __init__(self, settings: Settings):
        pass

    def __call__(self, extractive: Answer, context: ReadContext) -> Answer:
        return extractive


def _llm(settings: Settings) -> Mode:
    from .llm_mode import LLMMode  # openai: only once the mode is used

    return LLMMode(settings)


register("extractive", Extractive)
register("llm", _llm)
