"""A build records each file's size and modification time: the next build, and the app's
out-of-date check, read only files whose size or time changed (a 380,000-file archive is not
hashed again on every update). Recently modified files are always read."""

from __future__ import annotations

import os
import time

from assistant import indexing, state, store
from assistant.config import Settings
from assistant.indexing import build
from devtools.reliability_cases import article, quiet, real_named_fake_embedder


def _site(tmp_path, n: int = 6):
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    hour_ago = time.time() - 3600
    for i in range(n):
        p = corpus / f"town-{i:03d}.txt"
        p.write_text(article(i), encoding="utf-8")
        os.utime(p, (hour_ago, hour_ago))
    return Settings().replace(corpus_dir=corpus, index_dir=tmp_path / "index")


def _count_reads(monkeypatch) -> list[str]:
    reads: list[str] = []
    real = indexing.sha256_file

    def counting(path):
        reads.append(path.name)
        return real(path)

    monkeypatch.setattr(indexing, "sha256_file", counting)
    monkeypatch.setattr(state, "sha256_file", counting)
    return reads


def test_unchanged_files_are_not_read_again(tmp_path, monkeypatch):
    s, emb = _site(tmp_path), real_named_fake_embedder()
    build(s, embedder=emb, log=quiet)
    reads = _count_reads(monkeypatch)
    again = build(s, embedder=emb, log=quiet)
    assert again.up_to_date and again.reused_files == 6 and reads == []
    manifest = store.read_manifest(store.current_build_dir(s.index_dir))
    assert state.corpus_changes(s, manifest) is None and reads == []

    # Edited in place, same size, new time: read, and rebuilt.
    p = s.corpus_dir / "town-002.txt"
    text = p.read_text()
    p.write_text(text.replace("harbour", "HARBOUR"), encoding="utf-8")
    assert "1 changed" in state.corpus_changes(s, manifest) and reads == ["town-002.txt"]
    reads.clear()
    report = build(s, embedder=emb, log=quiet)
    assert report.parsed_files == 1 and reads == ["town-002.txt"]


def test_a_touched_file_is_read_once_then_trusted_again(tmp_path, monkeypatch):
    s, emb = _site(tmp_path), real_named_fake_embedder()
    build(s, embedder=emb, log=quiet)
    p = s.corpus_dir / "town-004.txt"
    later = time.time() - 1800
    os.utime(p, (later, later))  # same content, new time (a copy, a checkout)
    reads = _count_reads(monkeypatch)
    manifest = store.read_manifest(store.current_build_dir(s.index_dir))
    assert state.corpus_changes(s, manifest) is None and reads == ["town-004.txt"]
    (s.corpus_dir / "town-099.txt").write_text(article(99))  # a real change, so a new build
    os.utime(s.corpus_dir / "town-099.txt", (later, later))
    reads.clear()
    report = build(s, embedder=emb, log=quiet)
    assert report.parsed_files == 1 and report.reused_files == 6
    assert sorted(reads) == ["town-004.txt", "town-099.txt"]
    reads.clear()
    (s.corpus_dir / "town-005.txt").unlink()  # another change: the touched file's new time
    report = build(s, embedder=emb, log=quiet)  # was recorded, so it is not read again
    assert report.removed_files == 1 and reads == []


def test_files_modified_just_before_a_build_are_read_next_time(tmp_path, monkeypatch):
    s, emb = _site(tmp_path), real_named_fake_embedder()
    p = s.corpus_dir / "town-001.txt"
    p.write_text(article(1) + " Fresh.", encoding="utf-8")  # modified now: racy
    build(s, embedder=emb, log=quiet)
    reads = _count_reads(monkeypatch)
    assert build(s, embedder=emb, log=quiet).up_to_date and reads == ["town-001.txt"]
    reads.clear()
    report = build(s, embedder=emb, log=quiet, full=True)  # --full reads everything
    assert report.parsed_files == 6 and len(reads) == 6


def _scan_with_os_walk(root):
    """The walk scan_corpus replaced (os.walk, Path calls per file): the reference order."""
    root = root.resolve()
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = __import__("pathlib").Path(dirpath) / name
            if name.startswith(".") or path.suffix.lower() not in (".txt", ".md", ".pdf"):
                continue
            if path.is_symlink() or path.is_file():
                out.append(path.relative_to(root).as_posix())
    return out


def test_the_scan_keeps_the_order_and_choices_of_a_plain_walk(tmp_path):
    from assistant.build_support import scan_corpus, scan_corpus_stats

    root = tmp_path / "c"
    for rel in ["b.txt", "a.md", "Z.txt", "sub/x.txt", "sub/deeper/y.md", "sub2/z.pdf",
                "a-folder/q.txt", ".hidden/h.txt", ".dot.txt", "skip.bin", "sub/.h.md"]:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("Title\nText.")
    (root / "linked.txt").symlink_to(root / "b.txt")
    (root / "folder-link").symlink_to(root / "sub", target_is_directory=True)  # not followed
    found, refused = scan_corpus(root)
    assert [rel for _, rel in found] == _scan_with_os_walk(root) and not refused
    assert "folder-link/x.txt" not in [rel for _, rel in found]
    stats = scan_corpus_stats(root)[0]
    assert all(st.st_size == p.stat().st_size for p, _, st in stats)
