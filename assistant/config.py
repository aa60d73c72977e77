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
    # Largest corpus file that is read at all.
    max_file_mb: float = field(default_factory=lambda: _env("ASSISTANT_MAX_FILE_MB", 20.0, float))
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
    # Builds kept besides the current one, so readers that still hold an older one keep working.
    keep_builds: int = 2

    def replace(self, **changes) -> Settings:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})
