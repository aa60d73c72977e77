"""The article filter's search (assistant/ui/catalog.py) and the shared corpus watch
(assistant/ui/watch.py): plain logic, no Streamlit."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest

from assistant.records import ArticleInfo
from assistant.ui.catalog import ArticleCatalog, path_date
from assistant.ui.watch import CorpusWatch


def catalog(*rows: tuple[str, str]) -> ArticleCatalog:
    return ArticleCatalog(ArticleInfo(id=f"id-{source}", source=source, title=title)
                          for title, source in rows)


ARCHIVE = catalog(
    ("Harbour council approves budget", "business/2021/03/2021-03-14-harbour-budget.txt"),
    ("Café owners protest", "culture/2019-07-01-cafe-owners.txt"),
    ("Budget talks stall", "politics/20200105-budget-talks.txt"),
    ("Undated note", "notes.txt"),
    ("Zebra crossing", "politics/harbour-road/zebra.txt"),
)


def test_dates_come_from_the_path_when_it_has_one():
    assert path_date("business/2021/03/2021-03-14-x.txt") == dt.date(2021, 3, 14)
    assert path_date("a/20200105-b.txt") == dt.date(2020, 1, 5)
    assert path_date("2024/06/30/story.txt") == dt.date(2024, 6, 30)
    assert path_date("report-2023-02-30.txt") is None  # no such day
    assert path_date("flight-12345678.txt") is None
    assert path_date("notes.txt") is None


def test_words_match_titles_and_paths_case_and_accent_blind():
    ids, total = ARCHIVE.search("budget")  # both titles have it: in title order
    assert total == 2 and ids == ["id-politics/20200105-budget-talks.txt",
                                  "id-business/2021/03/2021-03-14-harbour-budget.txt"]
    assert ARCHIVE.search("CAFE")[0] == ["id-culture/2019-07-01-cafe-owners.txt"]
    assert ARCHIVE.search("café owners")[1] == 1
    assert ARCHIVE.search("budget harbour")[1] == 1  # every word must occur
    assert ARCHIVE.search("nothing-like-this")[1] == 0


def test_title_matches_come_before_path_only_matches():
    ids, total = ARCHIVE.search("harbour")
    assert total == 2
    assert ids[0] == "id-business/2021/03/2021-03-14-harbour-budget.txt"  # in the title
    assert ids[1] == "id-politics/harbour-road/zebra.txt"  # only in the path


def test_folder_and_date_narrow_the_matches():
    assert ARCHIVE.folders == ["business", "culture", "politics"]
    assert ARCHIVE.date_range == (dt.date(2019, 7, 1), dt.date(2021, 3, 14))
    assert ARCHIVE.search("", folder="politics")[1] == 2
    ids, total = ARCHIVE.search("budget", since=dt.date(2020, 1, 1), until=dt.date(2020, 12, 31))
    assert (ids, total) == (["id-politics/20200105-budget-talks.txt"], 1)
    # a narrowed date range leaves out the undated articles
    assert ARCHIVE.search("", since=dt.date(1990, 1, 1))[1] == 3


def test_only_the_first_matches_are_returned_with_the_count():
    big = ArticleCatalog(ArticleInfo(id=str(i), source=f"t/{i:05d}.txt", title=f"Story {i}")
                         for i in range(5000))
    ids, total = big.search("story", limit=50)
    assert total == 5000 and len(ids) == 50
    assert big.search("4999")[0] == ["4999"]
    assert big.label("17") == "Story 17 (t/00017.txt)" and "17" in big and "x" not in big


def test_corpus_watch_sees_added_removed_and_edited_files(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.txt").write_text("One\nText.")
    watch = CorpusWatch(tmp_path, interval=3600)  # no periodic walk during the test
    first = watch.digest()
    assert watch.digest() == first  # nothing changed
    (tmp_path / "a" / "two.txt").write_text("Two\nText.")  # the folder's mtime changes
    second = watch.digest()
    assert second != first
    (tmp_path / "ignored.bin").write_bytes(b"x")  # not an article: same fingerprint
    assert watch.digest() == second
    (tmp_path / "a" / "two.txt").unlink()
    assert watch.digest() == first
    # An edit in place does not touch the folder: seen at the next periodic walk.
    path = tmp_path / "a" / "one.txt"
    path.write_text("One\nOther text, longer.")
    later = time.time() + 5
    os.utime(path, (later, later))
    assert watch.digest() == first
    watch.interval = 0
    assert watch.digest() != first


def test_a_slow_corpus_walk_moves_to_the_background(tmp_path, monkeypatch):
    """After a walk that took long, pages get the last digest at once while the next walk runs
    in a thread, and periodic walks are spaced by their duration."""
    import threading

    from assistant.ui import watch as watch_module

    (tmp_path / "one.txt").write_text("One\nText.")
    watch = CorpusWatch(tmp_path, interval=0)
    first = watch.digest()
    assert watch._walker is None  # fast: inline
    gate = threading.Event()
    real_walk = watch._walk

    def slow_walk():
        gate.wait(10)
        return real_walk()

    watch.walk_seconds = watch_module.INLINE_SECONDS + 1  # as if the first walk had been slow
    watch._walked_at = float("-inf")
    monkeypatch.setattr(watch, "_walk", slow_walk)
    (tmp_path / "two.txt").write_text("Two\nText.")
    assert watch.digest() == first  # at once, the walk runs behind it
    assert watch._walker is not None and watch._walker.is_alive()
    assert watch.digest() == first  # still walking: no second walk started
    gate.set()
    watch._walker.join(10)
    second = watch.digest()
    assert second != first and watch._walker is not None
    # Next periodic walk: not before WALK_SHARE_INVERSE times the last walk's duration.
    watch.walk_seconds = 100.0
    assert not watch._due()


def test_a_background_walk_error_is_raised_by_the_next_digest(tmp_path):
    from assistant.ui import watch as watch_module

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "one.txt").write_text("One\nText.")
    watch = CorpusWatch(corpus, interval=0)
    watch.digest()
    watch.walk_seconds = watch_module.INLINE_SECONDS + 1

    def broken():
        raise PermissionError(13, "Permission denied")

    watch._walk = broken
    watch._walked_at = float("-inf")
    watch.digest()
    watch._walker.join(10)
    with pytest.raises(OSError):
        watch.digest()
