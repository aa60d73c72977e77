"""Settings: one frozen dataclass; defaults overridden by ASSISTANT_* environment variables."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SettingError

ROOT = Path(__file__).resolve().parent.parent


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


def _env(name: str, default, cast):
    """A setting from the environment; a value that does not parse is a one-line error."""
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return cast(value)
    except ValueError:
        kind = {int: "a whole number", float: "a number"}.get(cast, "a valid value")
        raise SettingError(f"{name}={value!r} is not {kind}.") from None


PRECISIONS = ("auto", "bf16", "fp32")
LLM_VERIFY_MODES = ("rules", "model")


def _choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = (os.environ.get(name) or default).strip().lower()
    if value not in allowed:
        raise SettingError(f"{name}={value!r} is not one of {', '.join(allowed)}.")
    return value


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = field(
        default_factory=lambda: _env_path("ASSISTANT_CORPUS_DIR", ROOT / "corpus"))
    index_dir: Path = field(
        default_factory=lambda: _env_path("ASSISTANT_INDEX_DIR", ROOT / "index"))
    data_dir: Path = field(default_factory=lambda: _env_path("ASSISTANT_DATA_DIR", ROOT / "data"))
    # The app database (assistant/workspace/): empty = the SQLite file data_dir/assistant.db;
    # postgresql://user:password@host:port/name when several app servers share it.
    database_url: str = field(default_factory=lambda: os.environ.get("ASSISTANT_DATABASE_URL",
                                                                     "").strip(), repr=False)
    # Largest corpus file that is read at all.
    max_file_mb: float = field(default_factory=lambda: _env("ASSISTANT_MAX_FILE_MB", 20.0, float))
    # What one PDF or Word file may expand to and cost (assistant/loaders/limits.py): decoded
    # size (zip members; page content counted per page), PDF pages, Word paragraphs and tables
    # (and zip parts), seconds and memory of the parse worker process (0 s: parse in-process).
    max_expanded_mb: float = field(
        default_factory=lambda: _env("ASSISTANT_MAX_EXPANDED_MB", 100.0, float))
    max_pages: int = field(default_factory=lambda: _env("ASSISTANT_MAX_PAGES", 5000, int))
    max_elements: int = field(default_factory=lambda: _env("ASSISTANT_MAX_ELEMENTS", 100_000, int))
    parse_seconds: float = field(
        default_factory=lambda: _env("ASSISTANT_PARSE_SECONDS", 60.0, float))
    parse_memory_mb: int = field(
        default_factory=lambda: _env("ASSISTANT_PARSE_MEMORY_MB", 2048, int))
    # Word pieces per chunk body (the heading prefix and special tokens come on top, within 256).
    chunk_tokens: int = field(default_factory=lambda: _env("ASSISTANT_CHUNK_TOKENS", 200, int))
    threads: int = field(default_factory=lambda: _env("ASSISTANT_THREADS", 0, int))  # 0: all cores
    batch_size: int = field(default_factory=lambda: _env("ASSISTANT_BATCH_SIZE", 16, int))
    top_k: int = field(default_factory=lambda: _env("ASSISTANT_TOP_K", 5, int))
    # Embedding precision: bf16 where the CPU computes it natively (AVX512_BF16 or AMX), else fp32.
    precision: str = field(
        default_factory=lambda: _choice("ASSISTANT_PRECISION", "auto", PRECISIONS))
    # The optional LLM reader (assistant/answer/llm.py): an OpenAI-compatible base URL; empty = off.
    llm_url: str = field(default_factory=lambda: os.environ.get("ASSISTANT_LLM_URL", "").strip())
    llm_model: str = field(
        default_factory=lambda: os.environ.get("ASSISTANT_LLM_MODEL", "").strip())
    llm_api_key: str = field(default_factory=lambda: os.environ.get("ASSISTANT_LLM_API_KEY", ""),
                             repr=False)
    llm_timeout: float = field(default_factory=lambda: _env("ASSISTANT_LLM_TIMEOUT", 30.0, float))
    llm_max_tokens: int = field(default_factory=lambda: _env("ASSISTANT_LLM_MAX_TOKENS", 300, int))
    # Caps on what is read of a reply, whatever the endpoint sends: the rest is cut off.
    llm_max_chars: int = field(default_factory=lambda: _env("ASSISTANT_LLM_MAX_CHARS", 4000, int))
    llm_max_sentences: int = field(
        default_factory=lambda: _env("ASSISTANT_LLM_MAX_SENTENCES", 20, int))
    # How the LLM's sentences are checked: "rules" (the verifier alone) or "model" (its
    # deterministic gates, then one more request asking the model: assistant/llm_judge.py).
    llm_verify: str = field(default_factory=lambda: _choice("ASSISTANT_LLM_VERIFY", "rules",
                                                            LLM_VERIFY_MODES))
    # Builds kept besides the current one, so readers that still hold an older one keep working.
    keep_builds: int = 2

    def replace(self, **changes) -> Settings:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})
