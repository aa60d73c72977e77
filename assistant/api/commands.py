"""`assistant serve` (the HTTP API) and `assistant token create | list | revoke`. Tokens need
no web framework; `serve` needs the `api` extra and says so."""

from __future__ import annotations

import gc
import json
import socket
import sys
from pathlib import Path

from ..config import Settings
from ..errors import AssistantError
from ..ui import auth
from .settings import OPEN_ENV, ApiSettings
from .token_db import DbTokenStore
from .tokens import revoke_as


def _settings(args) -> Settings:
    return Settings().replace(
        corpus_dir=Path(args.corpus) if getattr(args, "corpus", None) else None,
        index_dir=Path(args.index) if getattr(args, "index", None) else None,
        data_dir=Path(args.data) if getattr(args, "data", None) else None)


def _secrets(args) -> dict:
    return auth.load_secrets(getattr(args, "secrets", None) or auth.default_secrets_files())


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free one; read it back from getsockname)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise AssistantError(f"Cannot listen on {host}:{port} ({exc.strerror or exc}).") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def cmd_serve(args) -> int:
    try:
        import uvicorn

        from .app import create_app
    except ModuleNotFoundError as exc:
        raise AssistantError(f"`assistant serve` needs the api extra ({exc.name} is not "
                             "installed): pip install '.[api]'") from None
    from ..service import Assistant, index_state, make_embedder

    settings = _settings(args)
    secrets = _secrets(args)
    api = ApiSettings.from_env(secrets=secrets)
    allow = auth.read_config(secrets).allow
    state = index_state(settings, corpus=False)
    if state.problem is not None:
        raise state.problem
    if api.open_loopback:
        print(f"{OPEN_ENV}=1: clients on this machine need no token; others still do.",
              file=sys.stderr)
    # One torch thread per question, as the app does: a question is a dozen tokens.
    assistant = Assistant.open(settings=settings, embedder=make_embedder(
        settings.replace(threads=settings.threads or 1)))
    assistant.encode(["warm up"])
    gc.collect()
    gc.freeze()  # the model and index out of the collector's sight (see app.freeze_heap)
    app = create_app(assistant, DbTokenStore.for_settings(settings), api, allow)
    sock = bind(args.host, args.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"Article Assistant API on http://{shown}:{port} (docs: http://{shown}:{port}/docs; "
          f"index {assistant.status().build})", flush=True)
    config = uvicorn.Config(app, log_level=args.log_level, access_log=args.access_log,
                            timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def cmd_token(args) -> int:
    store = DbTokenStore.for_settings(_settings(args))
    if args.token_command == "create":
        allow = auth.read_config(_secrets(args)).allow
        if not allow.permits(args.user):
            print(f"warning: {args.user} is not on the allow-list ({allow.describe()}): the "
                  "token will be refused until they are.", file=sys.stderr)
        secret, info = store.create(args.user, args.name)
        if args.json:
            print(json.dumps({"token": secret, **info.public()}, indent=2))
        else:
            print(secret)
            print(f"token {info.id} for {info.user} ({info.name}): shown once, keep it secret",
                  file=sys.stderr)
        return 0
    if args.token_command == "list":
        rows = store.list(args.user)
        if args.json:
            print(json.dumps([r.public() for r in rows], indent=2, ensure_ascii=False))
            return 0
        if not rows:
            print("no tokens")
        for r in rows:
            state = f"revoked {r.revoked} by {r.revoked_by}" if r.revoked else "active"
            print(f"{r.id}  {r.user:30} {r.created}  {state:40} {r.name}")
        return 0
    try:
        info = revoke_as(store, args.id, "cli", admin=True)
    except KeyError:
        raise AssistantError(f"No token with id {args.id!r} (see `assistant token list`).") \
            from None
    if args.json:
        print(json.dumps(info.public(), indent=2))
    else:
        print(f"revoked {info.id} of {info.user} ({info.name})")
    return 0


def register(sub) -> None:
    p = sub.add_parser("serve", help="serve the HTTP API (needs the api extra)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free one)")
    p.add_argument("--corpus", help="corpus folder (default: ./corpus or $ASSISTANT_CORPUS_DIR)")
    p.add_argument("--index", help="index folder (default: ./index or $ASSISTANT_INDEX_DIR)")
    p.add_argument("--data", help="data folder with the app database (default: ./data or "
                                  "$ASSISTANT_DATA_DIR)")
    p.add_argument("--secrets", action="append", type=Path,
                   help="secrets.toml with the allow-list and admins (repeatable; default: "
                        "Streamlit's locations)")
    p.add_argument("--log-level", default="info",
                   choices=["critical", "error", "warning", "info", "debug"])
    p.add_argument("--access-log", action="store_true", help="log every request")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("token", help="API tokens: create, list, revoke")
    ts = p.add_subparsers(dest="token_command", required=True)
    create = ts.add_parser("create", help="make a token for a user (printed once)")
    create.add_argument("--user", required=True, help="the e-mail address the token acts as")
    create.add_argument("--name", default="cli", help="a label, e.g. 'slack bot'")
    create.add_argument("--secrets", action="append", type=Path,
                        help="secrets.toml with the allow-list (default: Streamlit's locations)")
    listing = ts.add_parser("list", help="list tokens (all users, or --user)")
    listing.add_argument("--user")
    revoke = ts.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("id")
    for c in (create, listing, revoke):
        c.add_argument("--data", help="data folder (default: ./data or $ASSISTANT_DATA_DIR)")
        c.add_argument("--json", action="store_true")
        c.set_defaults(func=cmd_token)
