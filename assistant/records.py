"""Typed records passed between stages. Frozen; checked on construction."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

SECTION_SEP = " › "


def content_id(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()[:24]


@dataclass(frozen=True)
class Section:
    heading_path: tuple[str, ...]
    text: str
    page: int | None = None  # 1-based PDF page the section (piece) is on
    start: int = 0  # offset of the section text in the article's body text

    def __post_init__(self):
        if not isinstance(self.heading_path, tuple):
            object.__setattr__(self, "heading_path", tuple(self.heading_path))
        if self.page is not None and self.page < 1:
            raise ValueError("page numbers start at 1")


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    source: str  # path relative to the corpus folder, with forward slashes
    sections: tuple[Section, ...]
    sha256: str = ""

    def __post_init__(self):
        if not self.title.strip():
            raise ValueError(f"{self.source}: article without a title")
        object.__setattr__(self, "sections", tuple(self.sections))


def section_label(title: str, heading_path: tuple[str, ...]) -> str:
    """How a section is named to people: the heading path, or the article title for the lead."""
    return SECTION_SEP.join(heading_path) if heading_path else title


@dataclass(frozen=True)
class Chunk:
    id: str
    article_id: str
    section_index: int
    heading_path: tuple[str, ...]
    text: str
    start: int  # offsets of `text` inside the section text
    end: int
    sentences: tuple[tuple[int, int], ...]  # sentence spans, relative to the section text
    page: int | None = None
    ntokens: int = 0

    def __post_init__(self):
        if self.end - self.start != len(self.text):
            raise ValueError("chunk offsets do not match its text")
        for s, e in self.sentences:
            if not (self.start <= s < e <= self.end):
                raise ValueError("sentence outside its chunk")


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with what is needed to cite it."""

    chunk: Chunk
    article_title: str
    source: str
    score: float
    dense: float = 0.0
    lexical: float = 0.0
    row: int = -1
    sentence_rows: tuple[int, int] = (0, 0)  # the chunk's sentences in sentences.npy [lo, hi)

    @property
    def section(self) -> str:
        return section_label(self.article_title, self.chunk.heading_path)


@dataclass(frozen=True, kw_only=True)
class Citation:
    n: int
    article: str
    section: str
    heading_path: tuple[str, ...]
    page: int | None = None  # PDF articles only
    source: str
    passage: str
    quote: str
    quote_start: int  # offsets of the quote inside the section text
    quote_end: int
    score: float = 0.0
    article_id: str = ""
    section_index: int = 0
    chunk_id: str = ""

    def __post_init__(self):
        if self.n < 1:
            raise ValueError("citation numbers start at 1")
        if self.quote and self.quote not in self.passage:
            raise ValueError("a quote must come from its passage")

    @classmethod
    def quoting(cls, n: int, p: Passage, start: int, end: int, score: float) -> Citation:
        """Citation [n] of passage `p`, quoting its chunk text from `start` to `end` (offsets
        within the chunk)."""
        return cls(n=n, article=p.article_title, section=p.section,
                   heading_path=p.chunk.heading_path, page=p.chunk.page, source=p.source,
                   passage=p.chunk.text.strip(), quote=p.chunk.text[start:end],
                   quote_start=p.chunk.start + start, quote_end=p.chunk.start + end,
                   score=float(score), article_id=p.chunk.article_id,
                   section_index=p.chunk.section_index, chunk_id=p.chunk.id)

    def to_json(self) -> dict:
        fields = ("n", "article", "section", "page", "source", "quote", "passage")
        return {**{f: getattr(self, f) for f in fields}, "score": round(float(self.score), 4)}


TIERS = ("answer", "possible", "abstain")


@dataclass(frozen=True, kw_only=True)
class Answer:
    question: str
    text: str
    citations: tuple[Citation, ...]
    abstained: bool
    confidence: float = 0.0
    passages: tuple[Passage, ...] = ()  # the closest passages (shown on abstention)
    timings_ms: dict = field(default_factory=dict)
    build_id: str = ""
    notice: str = ""  # a one-line reply for questions that could not be asked (empty, ...)
    features: dict = field(default_factory=dict)  # the evidence signals behind `confidence`
    considered: tuple[str, ...] = ()  # the sentences chosen, also when the answer abstained
    # "answer" (confident), "possible" (the best sentences, marked as maybe answering) or
    # "abstain" (no passage clearly answers; the closest passages are listed). Derived from
    # `abstained` when not given.
    tier: str = ""
    mode: str = "extractive"  # or "llm": written by the LLM reader, every sentence verified
    llm: dict | None = None  # {"model", "dropped": [{"sentence", "why"}], "fallback": None | why}

    def __post_init__(self):
        numbers = [c.n for c in self.citations]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError("citations must be numbered 1..N")
        if not self.tier:
            object.__setattr__(self, "tier", "abstain" if self.abstained else "answer")
        if self.tier not in TIERS:
            raise ValueError(f"tier must be one of {', '.join(TIERS)}")
        if (self.tier == "abstain") != bool(self.abstained):
            raise ValueError("an answer abstains exactly when its tier is 'abstain'")
        if self.mode not in ("extractive", "llm"):
            raise ValueError("mode must be 'extractive' or 'llm'")

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "tier": self.tier,
            "notice": self.notice,  # e.g. a question not in English (answer/language.py)
            "confidence": round(float(self.confidence), 4),
            "mode": self.mode,
            "llm": self.llm,
            "citations": [c.to_json() for c in self.citations],
            "closest": [] if self.citations else [
                {"article": p.article_title, "section": p.section, "source": p.source,
                 "passage": p.chunk.text.strip()} for p in self.passages[:3]],
            "timings_ms": {k: round(float(v), 2) for k, v in self.timings_ms.items()},
        }


# ------------------------------------------------------------------ the index, as the app sees it

@dataclass(frozen=True, kw_only=True)
class ArticleInfo:
    """An indexed article, as listed to people (the sources filter, the article view)."""

    id: str
    source: str  # the file, relative to the corpus folder
    title: str


@dataclass(frozen=True, kw_only=True)
class IndexStatus:
    """What the current build holds and how it was made."""

    build: str
    built_at: str | None
    counts: dict[str, int]
    model: dict
    precision: str  # the vectors' precision: "bf16", "fp32" or "mixed (bf16 and fp32)"
    skipped: tuple[dict, ...] = ()  # [{"source", "reason"}] files the build left out
    query_precision: str = ""  # the precision questions are encoded in ("" when not loaded)
    reload_error: str = ""  # why a newer build could not be opened (the old one still answers)

    @classmethod
    def of_manifest(cls, build: str, manifest: dict, **kwargs) -> IndexStatus:
        return cls(build=build, built_at=manifest.get("built_at"),
                   counts=dict(manifest.get("counts") or {}),
                   model=dict(manifest.get("model") or {}),
                   # Builds made before precision was recorded were all float32.
                   precision=manifest.get("precision", "fp32"),
                   skipped=tuple(manifest.get("skipped") or ()), **kwargs)


@dataclass(frozen=True, kw_only=True)
class IndexState:
    """Is the index usable, and is it current: the one answer the app, the CLI and the build
    share. `problem` is the error that stops it being opened (None: usable); `stale` says why a
    build is due (missing, unusable, or corpus files changed), None when it is current."""

    build: str | None
    problem: Exception | None = None
    stale: str | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None
