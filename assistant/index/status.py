"""Is the index usable, and is it current? Decided here once, for the app, the CLI and the
build: the app asks before it loads the model, `assistant build --if-stale` before it builds."""

from __future__ import annotations

from pathlib import Path

from . import format, layout, snapshot
from ..config import Settings
from ..errors import AssistantError, IndexNotBuilt
from ..loaders import sha256_file
from ..records import IndexState, IndexStatus


def index_state(settings: Settings, *, open_files: bool = False, corpus: bool = True,
                scanned: list | None = None) -> IndexState:
    """The current build's state. The cheap checks (CURRENT, the manifest fits this program)
    always; `open_files` also opens every file of the build (a damaged one makes it unusable);
    `corpus` compares the corpus folder with the build (hashes the files that may have changed),
    walking it unless `scanned` (scan_corpus_stats's files, e.g. a CorpusWatch's) is given."""
    from ..embedding import MODEL_DIM, MODEL_NAME  # torch: only once an index is asked about

    index_dir = Path(settings.index_dir)
    name = layout.current_name(index_dir)
    if not name:
        return IndexState(build=None, problem=IndexNotBuilt(index_dir),
                          stale="no index has been built yet")
    try:
        # The per-file records (in the build's database) only to compare the corpus; the app's
        # check on every run reads manifest.json alone.
        manifest = format.read_manifest(layout.builds_dir(index_dir) / name, records=corpus)
        format.check_manifest(manifest, index_dir, MODEL_NAME, MODEL_DIM)
        if open_files:
            snapshot.Snapshot(index_dir, MODEL_NAME, MODEL_DIM).close()
    except AssistantError as exc:
        return IndexState(build=name, problem=exc, stale=str(exc))
    return IndexState(build=name,
                      stale=corpus_changes(settings, manifest, scanned) if corpus else None)


def index_status(settings: Settings) -> IndexStatus:
    """What the current build holds, from its manifest (no model, no vectors)."""
    build_dir = layout.current_build_dir(Path(settings.index_dir))
    return IndexStatus.of_manifest(build_dir.name, format.read_manifest(build_dir))


def corpus_files(corpus_dir: Path | str) -> tuple[list[tuple[Path, str]], list[dict]]:
    """The article files a build would read ([(path, relative name)]) and the ones it refuses
    ([{"source", "reason"}]); nothing when the folder does not exist."""
    from .scan import scan_corpus

    root = Path(corpus_dir)
    return scan_corpus(root) if root.is_dir() else ([], [])


def corpus_changes(settings: Settings, manifest: dict, scanned: list | None = None) -> str | None:
    """A short description of corpus files added, changed or removed since the build."""
    from .scan import same_stat, scan_corpus_stats, stat_trusted_before

    root = Path(settings.corpus_dir)
    files = scanned if scanned is not None else (
        scan_corpus_stats(root)[0] if root.is_dir() else [])
    built = manifest.get("sources", {})
    stats, trusted_before = manifest.get("stats", {}), stat_trusted_before(manifest)
    skipped = {s["source"] for s in manifest.get("skipped", [])}
    added, changed = [], []
    seen = set()
    for rel, *sig in files:
        seen.add(rel)
        if rel in built:
            try:  # read the file only when its size or times are not the ones recorded
                if not same_stat(stats.get(rel), tuple(sig), trusted_before) \
                        and sha256_file(root / rel) != built[rel]:
                    changed.append(rel)
            except OSError:
                changed.append(rel)
        elif rel not in skipped:
            added.append(rel)
    removed = [s for s in built if s not in seen]
    parts = [f"{len(x)} {what}" for x, what in ((added, "added"), (changed, "changed"),
                                                 (removed, "removed")) if x]
    if not parts:
        return None
    names = (added + changed + removed)[:3]
    return f"corpus files {', '.join(parts)} since the build ({', '.join(names)}" + \
        (", …)" if len(added + changed + removed) > 3 else ")")
