"""Command line: `assistant build | ask | eval | status`. Parses input, calls the library, prints."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .config import Settings
from .errors import AssistantError


def _settings(args) -> Settings:
    return Settings().replace(
        corpus_dir=Path(args.corpus) if getattr(args, "corpus", None) else None,
        index_dir=Path(args.index) if getattr(args, "index", None) else None,
    )


def cmd_build(args) -> int:
    from .indexing import build, index_is_stale

    settings = _settings(args)
    if args.if_stale:
        reason = index_is_stale(settings) or _unusable(settings)
        if reason is None:
            print(f"index in {settings.index_dir} is up to date")
            return 0
        print(f"building the index: {reason}", file=sys.stderr)
    embedder = None
    if args.ray is not None:
        from .distributed import RayEmbedder

        embedder = RayEmbedder.from_settings(settings, address=args.ray or None,
                                             workers=args.ray_workers,
                                             cpus_per_worker=args.ray_cpus)
    report = build(settings, full=args.full, embedder=embedder)
    print(report.summary())
    return 0


def _unusable(settings: Settings) -> str | None:
    """Why the current build cannot be opened (a damaged or missing file), or None."""
    from . import store
    from .embedding import MODEL_DIM, MODEL_NAME

    try:
        store.Build(settings.index_dir, MODEL_NAME, MODEL_DIM).close()
    except AssistantError as exc:
        return str(exc)
    return None


def cmd_status(args) -> int:
    from . import store
    from .indexing import index_is_stale

    settings = _settings(args)
    build_dir = store.current_build_dir(settings.index_dir)
    manifest = store.read_manifest(build_dir)
    print(json.dumps({"build": build_dir.name, "built_at": manifest.get("built_at"),
                      "counts": manifest.get("counts"), "model": manifest.get("model"),
                      "precision": manifest.get("precision", "fp32"),
                      "skipped": manifest.get("skipped"),
                      "stale": index_is_stale(settings)}, indent=2, ensure_ascii=False))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="build or update the index from the corpus folder")
    p.add_argument("--corpus", help="corpus folder (default: ./corpus or $ASSISTANT_CORPUS_DIR)")
    p.add_argument("--index", help="index folder (default: ./index or $ASSISTANT_INDEX_DIR)")
    p.add_argument("--full", action="store_true", help="re-read and re-embed every file")
    p.add_argument("--if-stale", action="store_true",
                   help="only build when the index is missing or the corpus changed")
    p.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                   help="embed on a Ray cluster: host:port (or ray://host:10001) of a running "
                        "one; without ADDRESS, a local Ray for this build (needs the [ray] extra)")
    p.add_argument("--ray-workers", type=int, default=0, metavar="N",
                   help="model actors on the cluster (default: one per --ray-cpus CPUs)")
    p.add_argument("--ray-cpus", type=int, default=1, metavar="N",
                   help="CPUs (torch threads) per model actor (default: 1)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("status", help="show the current index")
    p.add_argument("--corpus")
    p.add_argument("--index")
    p.set_defaults(func=cmd_status)

    from . import cli_query  # a broken import must fail loudly, not hide `ask` and `eval`

    cli_query.register(sub)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
