"""A synthetic newsroom archive for checking the app at 100,000 articles: generated titles, bodies
and paths (`topic/YYYY/MM/YYYY-MM-DD-slug.txt`, so the filter has folders and dates), and an index
built with stand-in vectors, because this checks the page, not the answers' quality.

The vectors come from `StandInEmbedder`: random unit vectors seeded by the text, under the real
model's name and size, so the app (which embeds questions with the real model) opens the build.
Dense retrieval over them is noise; the lexical half of the search still finds the words, which
is all the filter check needs. A few planted articles carry words found nowhere else
(`PLANTED`), so a test can search for one by a title word and ask about its body.

    python -m devtools.synthetic_corpus --articles 100000 --work /tmp/synthetic-100k
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.embedding import MODEL_DIM, MODEL_NAME, EncodedChunks
from devtools.fakes import FakeEmbedder

TOPICS = ["world", "business", "politics", "sport", "technology", "science", "health",
          "culture", "education", "environment", "travel", "opinion"]
_SYLLABLES = ["ar", "bel", "cor", "dan", "el", "fen", "gar", "hal", "is", "jor", "kel", "lin",
              "mar", "nor", "ost", "pel", "quin", "ros", "sal", "tor", "ul", "ven", "wyn", "zan"]
_NOUNS = ["council", "harbour", "festival", "budget", "railway", "museum", "hospital", "league",
          "startup", "reservoir", "court", "airport", "university", "orchestra", "market",
          "bridge", "factory", "election", "vaccine", "satellite"]
_VERBS = ["approves", "delays", "opens", "rejects", "expands", "reviews", "cuts", "wins",
          "launches", "closes", "questions", "backs"]
_ADJ = ["new", "disputed", "historic", "regional", "record", "delayed", "surprise", "local",
        "national", "quiet"]

# (source, text): articles a test or benchmark looks for. Their distinctive words occur in no
# generated article ("zephyrine", "Quillmarsh", "Oskarvale" are not made of _SYLLABLES pairs in
# titles, which always end in a capitalised generated name plus a noun).
PLANTED = [
    ("science/2021/06/2021-06-14-zephyrine-telescope-sees-first-light.txt",
     "Zephyrine telescope sees first light\n\n"
     "The Zephyrine telescope on Mount Quillmarsh recorded its first images on 14 June 2021. "
     "The telescope was designed by astronomer Ilse Varnhagen and cost 41 million euros. "
     "Its mirror is 6.5 metres wide and was cast in Oskarvale.\n"),
    ("business/2019/11/2019-11-02-quillmarsh-brewery-sold.txt",
     "Quillmarsh brewery sold to cooperative\n\n"
     "The Quillmarsh brewery was sold to a workers' cooperative for 3 million pounds. "
     "The cooperative plans to keep all 48 jobs at the site.\n"),
]
PLANTED_QUESTION = "Who designed the telescope?"  # answered by PLANTED[0] only
PLANTED_ANSWER = "Ilse Varnhagen"


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def article(rng: random.Random, n: int) -> tuple[str, str]:
    """(relative path, text) of generated article number n."""
    topic = TOPICS[n % len(TOPICS)]
    day = dt.date(2000, 1, 1) + dt.timedelta(days=rng.randrange(9000))
    name, place = _name(rng), _name(rng)
    noun, verb, adj = rng.choice(_NOUNS), rng.choice(_VERBS), rng.choice(_ADJ)
    title = f"{place} {noun} {verb} {adj} plan for {name}"
    slug = "-".join(title.lower().split()[:5])
    body = [f"The {noun} in {place} {verb} a {adj} plan on {day:%d %B %Y}.",
            f"{name} said the plan would cost {rng.randint(2, 900)} million and take "
            f"{rng.randint(2, 12)} years.",
            f"Critics in {_name(rng)} asked why the {rng.choice(_NOUNS)} was not consulted.",
            f"A decision on the {noun} is expected in {rng.choice(['spring', 'summer', 'autumn', 'winter'])}."]
    path = f"{topic}/{day:%Y}/{day:%m}/{day:%Y-%m-%d}-{slug}-{n}.txt"
    return path, f"{title}\n\n{' '.join(body)}\n"


def write_corpus(folder: Path, articles: int, seed: int = 13) -> int:
    """Write `articles` articles (the planted ones included) under `folder`; returns how many."""
    rng = random.Random(seed)
    items = [article(rng, n) for n in range(max(0, articles - len(PLANTED)))] + PLANTED
    for rel, text in items:
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return len(items)


class StandInEmbedder(FakeEmbedder):
    """Random unit vectors (seeded by the text) under the real model's name and size: cheap
    enough for 100,000 articles, and accepted by the app. Only for checking the page."""

    name = MODEL_NAME
    dim = MODEL_DIM
    precision = "fp32"

    def _random(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            rng = np.random.default_rng(zlib.crc32(text.encode("utf-8", "surrogatepass")))
            v = rng.standard_normal(self.dim).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._random(list(texts))

    def encode_chunks(self, texts: Sequence[str], sentence_spans, progress=None,
                      on_progress=None) -> EncodedChunks:
        vectors = self._random(list(texts))
        sent = [self._random([text[s:e] for s, e in spans]) for text, spans in
                zip(texts, sentence_spans)]
        if on_progress is not None and texts:
            on_progress(len(texts), len(texts))
        return EncodedChunks(vectors, sent, sum(n + 2 for n in self.count_tokens(texts)))


def make_site(work: Path, articles: int, log=print) -> tuple[Path, Path, dict]:
    """The corpus and its index in `work` (both reused when they are there): (corpus, index,
    build report as a dict)."""
    from assistant.config import Settings
    from assistant.service import build_index

    corpus, index = work / "corpus", work / "index"
    t = time.perf_counter()
    if not corpus.is_dir():
        partial = work / "corpus.partial"
        n = write_corpus(partial, articles)
        partial.rename(corpus)
        log(f"wrote {n} articles in {time.perf_counter() - t:.0f} s")
    t = time.perf_counter()
    settings = Settings().replace(corpus_dir=corpus, index_dir=index, data_dir=work / "data")
    report = build_index(settings, embedder=StandInEmbedder(), log=lambda m: None)
    log(f"index: {report.articles} articles, {report.chunks} chunks "
        f"in {time.perf_counter() - t:.0f} s")
    return corpus, index, {"articles": report.articles, "chunks": report.chunks,
                           "build_s": round(time.perf_counter() - t, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--work", required=True, help="folder for the corpus and the index")
    args = ap.parse_args()
    make_site(Path(args.work), args.articles)
    return 0


if __name__ == "__main__":
    sys.exit(main())
