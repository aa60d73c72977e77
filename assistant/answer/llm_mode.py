"""The `llm` answer mode: the configured endpoint's reader (llm.py) over the extractive answer's
passages, its sentences verified; the extractive answer, with the reason, when it cannot run."""

from __future__ import annotations

import threading

from ..config import Settings
from ..records import Answer
from . import llm
from .readers import ReadContext


class LLMMode:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._reader: llm.Reader | None = None

    def reader(self) -> llm.Reader:
        """The LLM reader for the configured endpoint (made once). Raises LLMUnavailable."""
        if self._reader is None:
            with self._lock:
                if self._reader is None:
                    self._reader = llm.Reader(llm.LLMSettings.from_settings(self.settings))
        return self._reader

    def __call__(self, extractive: Answer, context: ReadContext) -> Answer:
        """The LLM reader's verified answer over the extractive answer's passages, or the
        extractive answer with the reason it is shown instead."""
        try:
            reader = self.reader()
            model = reader.model
        except llm.LLMUnavailable as exc:
            reading = llm.Reading(fallback=str(exc).rstrip("."),
                                  verify_mode=self.settings.llm_verify)
            return llm.compose(extractive.question, reading, (), self.settings.llm_model,
                               extractive)
        passages = extractive.passages[: reader.settings.passages]
        if self.settings.llm_verify == "model":  # the hard gates, then the model's own check
            from .llm_judge import read_checked

            reading = read_checked(reader, extractive.question, passages, context.encode,
                                   context.previous, context.on_text)
        else:
            reading = llm.read(reader, extractive.question, passages, context.encode,
                               context.previous, context.on_text)
        return llm.compose(extractive.question, reading, passages, model, extractive)
