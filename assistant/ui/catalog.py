"""Finding articles by title, file path, folder and date: the app's "only these articles" filter.

A newsroom archive has 100,000 articles or more, far too many to send to a page as options. The
catalog is made once per build (the app caches it) and a search returns the first matches and how
many there are, so the page only ever gets a short list. A search over 100,000 articles is a scan
of prepared lowercase strings (tens of milliseconds), and repeated searches are remembered.

Folders are the first part of an article's path in the corpus (a topic, a desk, a year). Dates are
read from the path when it carries one (`2024-03-14`, `20240314`, `2024/03/14`), the usual way an
archive names its files; articles without one are left out only when the date range is narrowed.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from ..records import ArticleInfo

# Year 1900-2099, month and day, with one optional separator between the parts.
_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)([-_/.]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?!\d)")
_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """Lowercase without accents, so "cafe" finds "Café"."""
    text = str(text)
    if text.isascii():  # most titles and paths: nothing to decompose
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def path_date(source: str) -> dt.date | None:
    """The date a file path carries (the last one, which is the most specific), or None."""
    found = None
    for m in _DATE.finditer(source):
        try:
            found = dt.date(int(m.group(1)), int(m.group(3)), int(m.group(4)))
        except ValueError:  # 2023-02-30
            continue
    return found


class ArticleCatalog:
    """The articles of one build, ready to be searched. Immutable and safe to share between
    sessions; `search` results are cached."""

    def __init__(self, articles: Iterable[ArticleInfo]):
        rows = sorted(((a.title, a.source, a.id) for a in articles),
                      key=lambda r: (r[0].lower(), r[1]))
        self.ids = [r[2] for r in rows]
        self._pos = {aid: i for i, aid in enumerate(self.ids)}
        self._labels = [f"{title} ({source})" for title, source, _ in rows]
        self._titles = [fold(title) for title, _, _ in rows]
        self._hay = [f"{t} {fold(source)}" for t, (_, source, _) in zip(self._titles, rows)]
        self._folders = [source.split("/", 1)[0] if "/" in source else "" for _, source, _ in rows]
        self._dates = [path_date(source) for _, source, _ in rows]
        self.folders = sorted({f for f in self._folders if f})
        dated = [d for d in self._dates if d is not None]
        self.date_range = (min(dated), max(dated)) if dated else None
        self._search = lru_cache(maxsize=256)(self._search_uncached)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, article_id) -> bool:
        return article_id in self._pos

    def label(self, article_id: str) -> str:
        """"Title (path)": how an article is named in the filter."""
        i = self._pos.get(article_id)
        return self._labels[i] if i is not None else article_id

    def search(self, query: str = "", folder: str = "", since: dt.date | None = None,
               until: dt.date | None = None, limit: int = 50) -> tuple[list[str], int]:
        """(ids of the first `limit` matches, number of matches). Every word of the query must
        occur in the title or the path; articles whose title has them all come first, then
        by title. `folder` "" and no dates: all folders, any date."""
        words = tuple(dict.fromkeys(_WORD.findall(fold(query))))
        return self._search(words, folder, since, until, limit)

    def _search_uncached(self, words: tuple[str, ...], folder: str, since, until,
                         limit: int) -> tuple[list[str], int]:
        candidates: Iterable[int] = range(len(self.ids))
        if folder:
            candidates = [i for i in candidates if self._folders[i] == folder]
        if since is not None or until is not None:
            lo, hi = since or dt.date.min, until or dt.date.max
            candidates = [i for i in candidates
                          if (d := self._dates[i]) is not None and lo <= d <= hi]
        if words:
            hay = self._hay
            candidates = [i for i in candidates if all(w in hay[i] for w in words)]
            titles = self._titles
            in_title = [i for i in candidates if all(w in titles[i] for w in words)]
            if len(in_title) < len(candidates):
                first = set(in_title)
                candidates = in_title + [i for i in candidates if i not in first]
        candidates = list(candidates)
        return [self.ids[i] for i in candidates[:limit]], len(candidates)
