"""A build records each file's size and modification time: the next build, and the app's
out-of-date check, read only files whose size or time changed (a 380,000-file archive is not
hashed again on every update). Recently modified files are always read."""

from __future__ import annotations

import os
import time

from assistant.config import Settings
from assistant.index import builder, layout
from assistant.index import format as index_format
from assistant.index import status as state
from assistant.index.builder import build
from devtools.reliability_cases import article, quiet, real_named_fake_embedder


def _site(tmp_path, n: int = 6, monkeypatch=None):
    """Files written an hour ago, as far as their modification time says. Their inode change
    time is now, within the 2 s in which a build reads every file again: `monkeypatch` narrows
    that window to 1 ms so the other rules can be tested at once."""
    if monkeypatch is not None:
        from assistant.index import scan

        monkeypatch.setattr(scan, "RACY_NS", 1_000_000)
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    hour_ago = time.time() - 3600
    for i in range(n):
        p = corpus / f"town-{i:03d}.txt"
        p.write_text(article(i), encoding="utf-8")
        os.utime(p, (hour_ago, hour_ago))
    time.sleep(0.01)  # (past the narrowed window)
    return Settings().replace(corpus_dir=corpus, index_dir=tmp_path / "index")


def _count_reads(monkeypatch) -> list[str]:
    reads: list[str] = []
    real = builder.sha256_file

    def counting(path):
        reads.append(path.name)
        return real(path)

    monkeypatch.setattr(builder, "sha256_file", counting)
    monkeypatch.setattr(state, "sha256_file", counting)
    return reads


def test_unchanged_files_are_not_read_again(tmp_path, monkeypatch):
    s, emb = _site(tmp_path, monkeypatch=monkeypatch), real_named_fake_embedder()
    build(s, embedder=emb, log=quiet)
    reads = _count_reads(monkeypatch)
    again = build(s, embedder=emb, log=quiet)
    assert again.up_to_date and again.reused_files == 6 and reads == []
    manifest = index_format.read_manifest(layout.current_build_dir(s.index_dir))
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
    s, emb = _site(tmp_path, monkeypatch=monkeypatch), real_named_fake_embedder()
    build(s, embedder=emb, log=quiet)
    p = s.corpus_dir / "town-004.txt"
    later = time.time() - 1800
    os.utime(p, (later, later))  # same content, new time (a copy, a checkout)
    reads = _count_reads(monkeypatch)
    manifest = index_format.read_manifest(layout.current_build_dir(s.index_dir))
    assert state.corpus_changes(s, manifest) is None and reads == ["town-004.txt"]
    reads.clear()
    report = build(s, embedder=emb, log=quiet)  # read once; a new build records its new times
    assert not report.up_to_date and report.reused_files == 6 and report.parsed_files == 0
    assert reads == ["town-004.txt"]
    reads.clear()
    assert build(s, embedder=emb, log=quiet).up_to_date and reads == []


def test_a_file_put_back_with_an_old_time_is_read(tmp_path, monkeypatch):
    """`cp -p`, `rsync -t` or `tar` can replace a file with one of the same size and an old
    modification time; its inode change time is new, so it is read."""
    s, emb = _site(tmp_path, monkeypatch=monkeypatch), real_named_fake_embedder()
    build(s, embedder=emb, log=quiet)
    p = s.corpus_dir / "town-003.txt"
    old = p.stat()
    p.write_text(p.read_text().replace("herring", "HERRING"), encoding="utf-8")
    os.utime(p, ns=(old.st_atime_ns, old.st_mtime_ns))  # same size, same mtime as recorded
    assert p.stat().st_size == old.st_size and p.stat().st_mtime_ns == old.st_mtime_ns
    reads = _count_reads(monkeypatch)
    manifest = index_format.read_manifest(layout.current_build_dir(s.index_dir))
    assert "1 changed" in state.corpus_changes(s, manifest) and reads == ["town-003.txt"]
    assert build(s, embedder=emb, log=quiet).parsed_files == 1


def test_files_modified_just_before_a_build_are_read_next_time(tmp_path, monkeypatch):
    """With the real 2 s window: every file was written (its inode changed) just now, so the
    next build reads them all again even though size and times match."""
    s, emb = _site(tmp_path), real_named_fake_embedder()
    build(s, embedder=emb, log=quiet)
    reads = _count_reads(monkeypatch)
    assert build(s, embedder=emb, log=quiet).up_to_date and len(reads) == 6
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
    from assistant.index.scan import scan_corpus, scan_corpus_stats

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
    stats, _, folders = scan_corpus_stats(root)
    assert all(size == (root / rel).stat().st_size for rel, size, _, _ in stats)
    assert str(root.resolve() / "sub" / "deeper") in folders
