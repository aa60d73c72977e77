"""Who may use the chat: the sign-in settings, the allow-list, and the checks made before the app
runs without sign-in.

Sign-in itself is Streamlit's (st.login / st.user / st.logout over OpenID Connect, configured in
the `[auth]` section of `.streamlit/secrets.toml`). This module only reads that configuration as
a plain mapping, so it is tested without Streamlit: app.py passes it `st.secrets` and the claims
in `st.user`, and `assistant check-auth --host HOST` (`check`, run by `make run` before the server
starts) reads the same secrets.toml files itself.

Fail closed: an `[auth]` section that cannot work, or a wish for sign-in (ASSISTANT_REQUIRE_AUTH,
an allow-list) without one, stops the app rather than letting it run open.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import SettingError

ALLOWED_ENV = "ASSISTANT_ALLOWED_USERS"
REQUIRE_ENV = "ASSISTANT_REQUIRE_AUTH"
# The allow-list may also live in secrets.toml:  [assistant]  allowed_users = ["@example.org"]
SECRETS_SECTION = "assistant"
ADMINS_ENV = "ASSISTANT_ADMINS"
SECRETS_ADMINS_KEY = "admins"  # [assistant] admins = ["boss@example.org"] in secrets.toml
SECRETS_ALLOWED_KEY = "allowed_users"

SHARED_KEYS = ("redirect_uri", "cookie_secret")
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
CALLBACK_PATH = "/oauth2callback"
# The cookie that carries the identity is signed with cookie_secret: a short one can be guessed.
MIN_COOKIE_SECRET = 32
HOW_TO = "see the README, section Sign-in"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


# ------------------------------------------------------------------------------ allow-list

@dataclass(frozen=True)
class AllowList:
    """E-mail addresses and domains (`@example.org`) allowed in. Empty: anyone the identity
    provider signs in. Matching ignores case; a domain matches exactly (not its subdomains)."""

    addresses: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.addresses or self.domains)

    def permits(self, email: str | None) -> bool:
        if not self:
            return True
        if not email:
            return False
        email = email.strip().lower()
        if not _ADDRESS.match(email):  # "example.org" alone must not pass as the domain
            return False
        return email in self.addresses or email.rpartition("@")[2] in self.domains

    def union(self, other: AllowList) -> AllowList:
        return AllowList(self.addresses | other.addresses, self.domains | other.domains)

    def describe(self) -> str:
        return ", ".join(sorted("@" + d for d in self.domains) + sorted(self.addresses))


_ADDRESS = re.compile(r"^[^@\s]+@([^@\s]+)$")
_DOMAIN = re.compile(r"^@([^@\s]+)$")


def parse_allow_list(value: str | Iterable[str] | None, source: str) -> AllowList:
    """Entries separated by commas, semicolons or white space (or a list of such strings).
    `source` names where the value came from, for the one-line error on a bad entry."""
    if value is None:
        return AllowList()
    if isinstance(value, str):
        value = [value]
    addresses: set[str] = set()
    domains: set[str] = set()
    for item in value:
        if not isinstance(item, str):
            raise SettingError(f"{source}: {item!r} is not text; give addresses and domains "
                               "as strings, e.g. \"@example.org, alice@partner.com\".")
        for entry in re.split(r"[,;\s]+", item.strip().lower()):
            if not entry:
                continue
            if m := _DOMAIN.match(entry):
                domains.add(m.group(1))
            elif _ADDRESS.match(entry):
                addresses.add(entry)
            else:
                raise SettingError(
                    f"{source}: {entry!r} is neither an e-mail address (name@domain) nor a "
                    "domain (@domain), e.g. \"@example.org, alice@partner.com\".")
    return AllowList(frozenset(addresses), frozenset(domains))


# ------------------------------------------------------------------------------ identity

def read_admins(environ: Mapping[str, str], secrets: Mapping) -> frozenset[str]:
    """Admin e-mail addresses: ASSISTANT_ADMINS and `[assistant] admins` in secrets.toml.
    Addresses only: a domain would make a whole organisation admin."""
    allow = parse_allow_list(environ.get(ADMINS_ENV), ADMINS_ENV)
    section = secrets.get(SECRETS_SECTION)
    if isinstance(section, Mapping):
        allow = allow.union(parse_allow_list(section.get(SECRETS_ADMINS_KEY),
                                             f"[{SECRETS_SECTION}] {SECRETS_ADMINS_KEY}"))
    if allow.domains:
        raise SettingError(f"{ADMINS_ENV} / [{SECRETS_SECTION}] {SECRETS_ADMINS_KEY}: name "
                           f"admins by address, not by domain (@{min(allow.domains)}).")
    return frozenset(allow.addresses)


def named_admins(secrets: Mapping | None = None,
                 environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """read_admins for the page: a list that names a domain counts for nothing here (the API
    server refuses to start on it with read_admins' one-line reason)."""
    try:
        return read_admins(os.environ if environ is None else environ, secrets or {})
    except SettingError:
        return frozenset()


from .identity import TRUST_UNVERIFIED_KEY, Identity, identity, trusted_issuers  # noqa: E402,F401 - re-exported

# ------------------------------------------------------------------------------ configuration

@dataclass(frozen=True)
class AuthConfig:
    """The sign-in settings, read once from secrets.toml (as a mapping) and the environment."""

    configured: bool = False  # an [auth] section exists
    providers: tuple[str, ...] = ()  # "" = the default provider (keys right in [auth])
    problem: str | None = None  # [auth] exists but cannot work: refuse instead of running open
    allow: AllowList = AllowList()
    require: bool = False  # ASSISTANT_REQUIRE_AUTH
    trusted_issuers: tuple[str, ...] = ()  # providers with trust_unverified_email = true

    @property
    def ready(self) -> bool:
        return self.configured and self.problem is None


def _flag(environ: Mapping[str, str], name: str) -> bool:
    value = (environ.get(name) or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingError(f"{name}={value!r} is not one of 1, 0, true, false, yes, no, on, off.")


def _provider_problem(section: Mapping, name: str) -> str | None:
    missing = [k for k in PROVIDER_KEYS if not section.get(k)]
    if not missing:
        url = str(section["server_metadata_url"])
        if not url.startswith(("https://", "http://")):
            return f"server_metadata_url of {name} must be an absolute http(s) URL"
        return None
    return f"{name} lacks {', '.join(missing)}"


def _auth_problem(auth: Mapping) -> tuple[tuple[str, ...], str | None]:
    """(provider names, the first reason the section cannot work or None)."""
    missing = [k for k in SHARED_KEYS if not auth.get(k)]
    if missing:
        return (), f"[auth] lacks {', '.join(missing)}"
    redirect = str(auth["redirect_uri"])
    if not redirect.startswith(("https://", "http://")) or \
            not redirect.split("?")[0].endswith(CALLBACK_PATH):
        return (), (f"redirect_uri must be the app's absolute address ending in {CALLBACK_PATH}, "
                    f"e.g. http://localhost:8501{CALLBACK_PATH}")
    if len(str(auth["cookie_secret"])) < MIN_COOKIE_SECRET:
        return (), (f"cookie_secret is shorter than {MIN_COOKIE_SECRET} characters; make one "
                    "with: python -c \"import secrets; print(secrets.token_hex(32))\"")
    named = {k: v for k, v in auth.items() if isinstance(v, Mapping) and k != "client_kwargs"
             and any(p in v for p in PROVIDER_KEYS)}
    providers: list[str] = []
    if any(auth.get(k) for k in PROVIDER_KEYS):
        problem = _provider_problem(auth, "[auth]")
        if problem:
            return (), problem
        providers.append("")
    for name, section in named.items():
        if "_" in name:
            return (), f"provider name {name!r} contains '_' (Streamlit does not allow it)"
        problem = _provider_problem(section, f"[auth.{name}]")
        if problem:
            return (), problem
        providers.append(name)
    if not providers:
        return (), ("[auth] names no identity provider: add client_id, client_secret and "
                    "server_metadata_url")
    return tuple(providers), None


def read_config(secrets: Mapping, environ: Mapping[str, str] | None = None) -> AuthConfig:
    """Raises SettingError (one line) for an unusable ASSISTANT_* value or allow-list entry."""
    environ = os.environ if environ is None else environ
    require = _flag(environ, REQUIRE_ENV)
    allow = parse_allow_list(environ.get(ALLOWED_ENV), ALLOWED_ENV)
    section = secrets.get(SECRETS_SECTION)
    if isinstance(section, Mapping):
        allow = allow.union(parse_allow_list(
            section.get(SECRETS_ALLOWED_KEY),
            f"[{SECRETS_SECTION}] {SECRETS_ALLOWED_KEY} in secrets.toml"))
    auth = secrets.get("auth")
    if auth is None:
        return AuthConfig(False, (), None, allow, require)
    if not isinstance(auth, Mapping):
        return AuthConfig(True, (), "auth in secrets.toml must be a section ([auth])", allow,
                          require)
    providers, problem = _auth_problem(auth)
    return AuthConfig(True, providers, problem, allow, require,
                      trusted_issuers(auth, providers) if not problem else ())


# ------------------------------------------------------------------------------ decisions

def is_loopback(host: str | None) -> bool:
    """Whether a server bound to `host` is reachable from this machine only. No address (None or
    empty) is Streamlit's default: every interface."""
    host = (host or "").strip().strip("[]")
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def startup_check(config: AuthConfig, host: str | None) -> tuple[bool, str | None]:
    """(may the app serve, one line to print or None). Refusals say why and what to do."""
    if config.configured and config.problem:
        return False, (f"Sign-in is configured but cannot work: {config.problem} "
                       f"(.streamlit/secrets.toml; {HOW_TO}).")
    if not config.configured:
        if config.require:
            return False, (f"{REQUIRE_ENV}=1 but sign-in is not configured: add an [auth] "
                           f"section to .streamlit/secrets.toml ({HOW_TO}), or unset "
                           f"{REQUIRE_ENV} to run without sign-in.")
        if config.allow:
            return False, (f"An allow-list is set ({ALLOWED_ENV} or [{SECRETS_SECTION}] "
                           f"{SECRETS_ALLOWED_KEY}) but sign-in is not configured: add an [auth] "
                           f"section to .streamlit/secrets.toml ({HOW_TO}).")
        if not is_loopback(host):
            where = host or "every network interface"
            return True, (f"Warning: sign-in is not configured and the app listens on {where}: "
                          "anyone who can reach it can read every article and the feedback. "
                          "Configure sign-in in .streamlit/secrets.toml ([auth]; "
                          f"{HOW_TO}), or bind to localhost.")
        return True, None
    if not config.allow:
        return True, ("Sign-in is on, without an allow-list: every account the identity "
                      f"provider signs in may use the app ({ALLOWED_ENV} restricts it).")
    return True, f"Sign-in is on; allowed: {config.allow.describe()}."


@dataclass(frozen=True)
class Access:
    """What one visitor gets.

    kind: "open" (no sign-in configured), "sign_in" (must sign in first), "allowed",
    "refused" (signed in, outside the allow-list) or "closed" (the app must not serve)."""

    kind: str
    user: Identity | None = None
    message: str | None = None


def decide(config: AuthConfig, claims: Mapping | None, host: str | None = None) -> Access:
    """`claims`: st.user as a mapping (is_logged_in and the identity token's claims)."""
    ok, line = startup_check(config, host)
    if not ok:
        return Access("closed", message=line)
    if not config.configured:
        return Access("open")
    if not claims or claims.get("is_logged_in") is not True:
        return Access("sign_in")
    user = identity(claims, config.trusted_issuers)
    if not config.allow.permits(user.email):
        shown = user.email or "an account without a verified e-mail address"
        return Access("refused", user, (f"You are signed in as {shown}, which may not use "
                                        "the Article Assistant. Ask its administrator to add "
                                        "you, or sign out and sign in with another account."))
    return Access("allowed", user)


# ------------------------------------------------------------------------------ preflight

def default_secrets_files(cwd: Path | None = None) -> list[Path]:
    """Where `streamlit run` looks by default, lowest priority first."""
    return [Path.home() / ".streamlit" / "secrets.toml",
            (cwd or Path.cwd()) / ".streamlit" / "secrets.toml"]


def load_secrets(files: Sequence[Path]) -> dict:
    """Merged like Streamlit does (later files replace earlier top-level keys). An unreadable
    file is a SettingError: the app could not read it either."""
    merged: dict = {}
    for path in files:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise SettingError(f"{path} cannot be read ({exc.strerror or exc}).") from None
        try:
            merged.update(tomllib.loads(text))
        except tomllib.TOMLDecodeError as exc:
            raise SettingError(f"{path} is not valid TOML ({exc}).") from None
    return merged


def check(host: str = "localhost", secrets: Sequence[Path] | None = None) -> int:
    """The check `make run` makes before starting the server (`assistant check-auth`): 0 = start
    (a line may be printed, e.g. the warning for an open app on a network address), 2 = refuse,
    with one line why."""
    try:
        config = read_config(load_secrets(secrets or default_secrets_files()))
    except SettingError as exc:
        print(f"Refusing to start: {exc}", file=sys.stderr)
        return 2
    ok, line = startup_check(config, host)
    if not ok:
        print(f"Refusing to start: {line}", file=sys.stderr)
        return 2
    if line:
        print(line, file=sys.stderr)
    return 0
