"""Command line: `assistant build | watch | ask | eval | status | check-auth | serve | token`.
Parses input, calls the library, prints."""

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
    from .service import build_index, index_state, ray_embedder

    settings = _settings(args)
    if args.if_stale:
        # Stale also when a file of the build is damaged: the build then replaces it.
        reason = index_state(settings, open_files=True).stale
        if reason is None:
            print(f"index in {settings.index_dir} is up to date")
            return 0
        print(f"building the index: {reason}", file=sys.stderr)
    embedder = None
    if args.ray is not None:
        embedder = ray_embedder(settings, address=args.ray or None, workers=args.ray_workers,
                                cpus_per_worker=args.ray_cpus)
    report = build_index(settings, full=args.full, embedder=embedder)
    print(report.summary())
    return 0


def cmd_status(args) -> int:
    from .service import index_state, index_status

    settings = _settings(args)
    status = index_status(settings)
    print(json.dumps({"build": status.build, "built_at": status.built_at, "counts": status.counts,
                      "model": status.model, "precision": status.precision,
                      "skipped": list(status.skipped), "stale": index_state(settings).stale,
                      **_freshness(settings)},
                     indent=2, ensure_ascii=False))
    return 0


def _freshness(settings: Settings) -> dict:
    """The watcher's state and the articles detected as mostly non-English
    (assistant/ui/freshness.py)."""
    from .embedding import MODEL_DIM, MODEL_NAME
    from .index.snapshot import Snapshot
    from .ui.freshness import status_fields

    try:
        build = Snapshot(Path(settings.index_dir), MODEL_NAME, MODEL_DIM)
    except AssistantError:  # a damaged build: `stale` already says why; the watcher still shows
        return status_fields(settings)
    try:
        return status_fields(settings, build)
    finally:
        build.close()


def cmd_check_auth(args) -> int:
    from .ui.auth import check

    return check(args.host, args.secrets)


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

    p = sub.add_parser("check-auth", help="check the sign-in settings before serving the app: "
                                          "exit 2 with one line why when it must not start")
    p.add_argument("--host", default="localhost", help="the address the app will bind to")
    p.add_argument("--secrets", action="append", type=Path,
                   help="a secrets.toml file (repeatable; default: Streamlit's locations)")
    p.set_defaults(func=cmd_check_auth)

    from . import cli_query, cli_watch  # a broken import must fail loudly, not hide commands

    cli_query.register(sub)
    cli_watch.register(sub)
    from .api import commands as api_commands  # serve, token (FastAPI only once serving)

    api_commands.register(sub)

    args = parser.parse_args(argv)
    # Nothing reaches the terminal raw: article text, file names and model output may hold
    # escape sequences (a title change, a screen clear).
    from .safe_text import SafeStream

    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(sys.stdout), SafeStream(sys.stderr)
    try:
        return args.func(args)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout, sys.stderr = saved


if __name__ == "__main__":
    sys.exit(main())
