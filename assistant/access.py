"""Who may read what. A collection is a top-level folder of the corpus; the rules are a TOML file
(ASSISTANT_ACCESS, else access.toml in the working folder when present):

    default = "deny"                     # unlisted collections: "deny" (default) or "allow"
    admins = ["chief@example.org"]       # see everything, and the admin pages
    [collections.politics]
    users = ["a@example.org"]            # e-mail addresses
    domains = ["newsroom.example.org"]   # e-mail domains
    groups = ["politics-desk"]           # OIDC groups (the provider's groups claim)

Files directly in the corpus folder belong to no collection and follow `default`.

The rules are read when a request is made (re-read when the file changes), so a changed rule
applies to the next question without a rebuild. They decide a `Scope`, which retrieval turns into
a row filter (index/collections.py): passages of other collections are never scored. Rules that
cannot be used fail closed: nobody reads anything, and one line names the rule at fault."""

from __future__ import annotations

import os
import threading
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import AssistantError

ENV = "ASSISTANT_ACCESS"
DEFAULT_FILE = "access.toml"
RULE_KEYS = {"users", "domains", "groups"}
TOP_KEYS = {"default", "admins", "collections"}


class AccessDenied(AssistantError):
    """The reader may not read this (an article of a collection outside their scope)."""


def collection_of(source: str) -> str:
    """The collection of a source path (relative to the corpus): its top-level folder; "" for a
    file directly in the corpus folder."""
    parts = str(source).replace("\\", "/").lstrip("/").split("/")
    return parts[0] if len(parts) > 1 else ""


@dataclass(frozen=True)
class Reader:
    """Who is asking: a verified e-mail address (None when unknown) and OIDC groups."""

    email: str | None = None
    groups: tuple[str, ...] = ()

    @classmethod
    def of(cls, email: str | None, groups: Iterable[str] = ()) -> Reader:
        return cls(email.strip().lower() if email else None,
                   tuple(sorted({str(g).strip() for g in groups if str(g).strip()})))

    @property
    def label(self) -> str:
        return self.email or "an unnamed reader"


@dataclass(frozen=True)
class Rule:
    users: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()

    def admits(self, reader: Reader) -> bool:
        if reader.email and (reader.email in self.users
                             or reader.email.rpartition("@")[2] in self.domains):
            return True
        return bool(self.groups.intersection(reader.groups))


@dataclass(frozen=True)
class Scope:
    """The collections a reader may read: everything (`all`), or those `permits` says yes to.
    `problem` is the one line shown when rules failed closed."""

    all: bool = False
    default_allow: bool = False
    allowed: frozenset[str] = frozenset()
    denied: frozenset[str] = frozenset()
    admin: bool = False
    problem: str = ""

    def permits(self, collection: str) -> bool:
        if self.all:
            return True
        if collection in self.allowed:
            return True
        if collection in self.denied:
            return False
        return self.default_allow

    def permits_source(self, source: str) -> bool:
        return self.permits(collection_of(source))


EVERYTHING = Scope(all=True)
NOTHING = Scope()


@dataclass(frozen=True)
class Rules:
    default_allow: bool = False
    admins: frozenset[str] = frozenset()
    collections: Mapping[str, Rule] = field(default_factory=dict)
    problem: str = ""  # set: the rules failed closed

    def is_admin(self, reader: Reader, also: frozenset[str] = frozenset()) -> bool:
        """Named in `admins` here, or in `also` (ASSISTANT_ADMINS and secrets.toml: one list of
        administrators wherever they are named). Rules that failed closed make nobody admin."""
        return (not self.problem and bool(reader.email)
                and (reader.email in self.admins or reader.email in also))

    def scope(self, reader: Reader, also: frozenset[str] = frozenset()) -> Scope:
        if self.problem:
            return Scope(problem=self.problem)
        if self.is_admin(reader, also):
            return Scope(all=True, admin=True)
        allowed = frozenset(n for n, r in self.collections.items() if r.admits(reader))
        return Scope(default_allow=self.default_allow, allowed=allowed,
                     denied=frozenset(self.collections) - allowed)


def _strings(value, where: str, lower: bool = True) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{where} must be a list of non-empty strings")
    return frozenset(v.strip().lower() if lower else v.strip() for v in value)


def parse_rules(data: Mapping, origin: str) -> Rules:
    """Rules from parsed TOML; a rule that cannot be used is an AssistantError naming it."""
    def bad(msg: str) -> AssistantError:
        return AssistantError(f"access rules {origin}: {msg}; nobody can read any article "
                              "until it is fixed.")

    unknown = set(data) - TOP_KEYS
    if unknown:
        raise bad(f"unknown setting {sorted(unknown)[0]!r} (known: default, admins, collections)")
    default = data.get("default", "deny")
    if default not in ("deny", "allow"):
        raise bad(f"default = {default!r} must be \"deny\" or \"allow\"")
    try:
        admins = _strings(data.get("admins", []), "admins")
        colls = data.get("collections", {})
        if not isinstance(colls, Mapping):
            raise ValueError("collections must be a table ([collections.NAME])")
        rules = {}
        for name, rule in colls.items():
            where = f"[collections.{name}]"
            if not isinstance(rule, Mapping):
                raise ValueError(f"{where} must be a table")
            extra = set(rule) - RULE_KEYS
            if extra:
                raise ValueError(f"{where} has unknown key {sorted(extra)[0]!r} "
                                 "(known: users, domains, groups)")
            rules[str(name)] = Rule(
                _strings(rule.get("users", []), f"{where} users"),
                frozenset(d.lstrip("@") for d in _strings(rule.get("domains", []),
                                                          f"{where} domains")),
                _strings(rule.get("groups", []), f"{where} groups", lower=False))
        for a in admins:
            if "@" not in a:
                raise ValueError(f"admins entry {a!r} is not an e-mail address")
    except ValueError as exc:
        raise bad(str(exc)) from None
    return Rules(default == "allow", admins, rules)


def rules_path(configured: str | None = None, cwd: Path | None = None) -> Path | None:
    """The rules file: `configured` (ASSISTANT_ACCESS), else access.toml in `cwd` if present."""
    configured = os.environ.get(ENV, "") if configured is None else configured
    if configured.strip():
        return Path(configured.strip()).expanduser()
    found = (cwd or Path.cwd()) / DEFAULT_FILE
    return found if found.is_file() else None


_cache: dict[Path, tuple[tuple[int, int], Rules]] = {}
_cache_lock = threading.Lock()


def load_rules(path: Path | None) -> Rules | None:
    """The rules in `path` (None: no rules, everything open). Re-read when the file changes;
    an unusable file gives Rules that fail closed, with the reason."""
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError as exc:
        return Rules(problem=f"access rules {path}: cannot be read ({exc.strerror or exc}); "
                             "nobody can read any article until it is fixed.")
    key = (st.st_mtime_ns, st.st_size)
    with _cache_lock:
        hit = _cache.get(path)
        if hit and hit[0] == key:
            return hit[1]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        rules = parse_rules(data, str(path))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        rules = Rules(problem=f"access rules {path}: not valid TOML ({exc}); nobody can read "
                              "any article until it is fixed.")
    except AssistantError as exc:
        rules = Rules(problem=str(exc))
    with _cache_lock:
        _cache[path] = (key, rules)
    return rules


def scope_for(reader: Reader | None, path: Path | None = None,
              admins: Iterable[str] = ()) -> Scope:
    """The scope of a reader now. No rules file: everything. `reader` None with rules (nobody
    signed in): only what `default = "allow"` opens. An administrator (in the rules' `admins`
    or in `admins`, the ASSISTANT_ADMINS / secrets.toml list) reads everything."""
    rules = load_rules(path if path is not None else rules_path())
    if rules is None:
        return EVERYTHING
    return rules.scope(reader or Reader(), _addresses(admins))


def is_admin(reader: Reader | None, path: Path | None = None,
             admins: Iterable[str] = ()) -> bool:
    """Is `reader` an administrator: named in the rules' `admins`, or in `admins` (the
    ASSISTANT_ADMINS / secrets.toml list). One list wherever a name is written: the same person
    may press Update now, see every API token, review feedback and read every collection. Rules
    that failed closed make nobody admin."""
    if reader is None or not reader.email:
        return False
    also = _addresses(admins)
    rules = load_rules(path if path is not None else rules_path())
    if rules is None:
        return reader.email in also
    return rules.is_admin(reader, also)


def _addresses(admins: Iterable[str]) -> frozenset[str]:
    return frozenset(a.strip().lower() for a in admins if a and a.strip())
