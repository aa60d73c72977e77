"""Shared fixtures: temporary paths for every test, the real embedder (loaded once), a fast
deterministic fake embedder, the seed article, and builders for good and bad PDF files."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from devtools.fakes import FakeEmbedder  # noqa: E402,F401 - tests import it from here

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
    from assistant.indexing import build
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

def make_pdf(pages: Sequence[Sequence[str]], outline: Sequence[tuple[int, str, int]] = (),
             title: str | None = None) -> bytes:
    """A text PDF: `pages` is a list of pages, each a list of lines. `outline` entries are
    (0-based page, title, level starting at 0) and become bookmarks in the PDF outline."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    if title:
        c.setTitle(title)
    for pno, lines in enumerate(pages):
        y = 720
        for line in lines:
            c.drawString(72, y, line)
            y -= 16
        for k, (opage, otitle, level) in enumerate(outline):
            if opage == pno:
                key = f"bm{k}"
                c.bookmarkPage(key)
                c.addOutlineEntry(otitle, key, level=level)
        c.showPage()
    c.save()
    return buf.getvalue()


def make_encrypted_pdf(password: str = "secret") -> bytes:
    """A text PDF that needs a user password to open (RC4, no extra crypto package needed)."""
    from pypdf import PdfReader, PdfWriter

    plain = make_pdf([["Secret Report", "This text is locked behind a password. Nobody reads it."]])
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(plain)))
    writer.encrypt(user_password=password, owner_password=password + "-owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_corrupt_pdf() -> bytes:
    """A PDF header followed by garbage: no xref, no objects."""
    rng = np.random.default_rng(7)
    return b"%PDF-1.4\n" + rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()


def make_truncated_pdf() -> bytes:
    good = make_pdf([["Truncated", "This document was cut in half while being copied."]] * 2)
    return good[: len(good) // 2]


def make_textless_pdf() -> bytes:
    """One page with a filled rectangle and no text at all (like a scanned image)."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.rect(100, 100, 300, 200, fill=1)
    c.showPage()
    c.save()
    return buf.getvalue()


def binary_bytes(n: int = 4096, seed: int = 3) -> bytes:
    """Random bytes that are surely not text (NULs included)."""
    rng = np.random.default_rng(seed)
    data = bytearray(rng.integers(0, 256, n, dtype=np.uint8).tobytes())
    data[10:20] = b"\x00" * 10
    return bytes(data)
