"""Shared fixtures: temporary paths for every test, the real embedder (loaded once), a fast
deterministic fake embedder and the seed article. Tests import shared helpers from devtools/
(never from here or from each other)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from devtools.fakes import FakeEmbedder  # noqa: E402 - after the offline switches

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "corpus" / "mexico-us-cross-border-crime-cooperation.txt"


@pytest.fixture(autouse=True)
def isolated_paths(tmp_path, monkeypatch):
    """No test reads or writes the repository's corpus/, index/ or data/."""
    paths = {}
    for var, name in (("ASSISTANT_CORPUS_DIR", "corpus"), ("ASSISTANT_INDEX_DIR", "index"),
                      ("ASSISTANT_DATA_DIR", "data")):
        p = tmp_path / name
        p.mkdir()
        monkeypatch.setenv(var, str(p))
        paths[name] = p
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    return paths


@dataclass(frozen=True)
class SharedIndex:
    """An index built once per session with the real model. Read-only: a test that changes the
    corpus or the index copies it or builds its own."""

    corpus: Path
    index: Path

    def settings(self, data_dir: Path | None = None):
        from assistant.config import Settings

        return Settings().replace(corpus_dir=self.corpus, index_dir=self.index,
                                  data_dir=data_dir)


def _shared_index(tmp_path_factory, embedder, name: str, hostile: bool) -> SharedIndex:
    from assistant.index.builder import build
    from devtools.ui_samples import make_corpus

    root = tmp_path_factory.mktemp(name)
    shared = SharedIndex(make_corpus(root / "corpus", hostile=hostile), root / "index")
    build(shared.settings(), embedder=embedder, log=lambda m: None, progress=False)
    return shared


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, embedder) -> SharedIndex:
    """The seed article alone."""
    return _shared_index(tmp_path_factory, embedder, "seed-index", hostile=False)


@pytest.fixture(scope="session")
def app_index(tmp_path_factory, embedder) -> SharedIndex:
    """The seed article and the hostile article (markup and injection attempts) the UI tests use."""
    return _shared_index(tmp_path_factory, embedder, "app-index", hostile=True)


@pytest.fixture
def corpus_dir(isolated_paths) -> Path:
    return isolated_paths["corpus"]


@pytest.fixture
def index_dir(isolated_paths) -> Path:
    return isolated_paths["index"]


@pytest.fixture(scope="session")
def embedder():
    """The real model, loaded once per session."""
    from assistant.embedding import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def seed_path() -> Path:
    assert SEED.is_file(), f"seed article missing: {SEED}"
    return SEED


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


# ------------------------------------------------------------------------ PDF builders
