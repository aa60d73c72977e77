"""The API's settings: limits on requests, rate limits per token, who is an admin, and whether
loopback clients may skip the token. Read once from ASSISTANT_API_* variables (and the admins
also from secrets.toml, where the allow-list lives)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import SettingError
from ..ui.auth import ADMINS_ENV, SECRETS_ADMINS_KEY, read_admins  # noqa: F401 - re-exported

OPEN_ENV = "ASSISTANT_API_OPEN"

# Requests: a question (the app cuts at 1,000 with a notice; past 2,000 it is refused), the
# earlier messages of a conversation, and the body as a whole.
MAX_QUESTION_CHARS = 2000
MAX_HISTORY_ITEMS = 100
MAX_HISTORY_CHARS = 100_000
MAX_BODY_BYTES = 1_000_000


def _number(environ: Mapping[str, str], name: str, default: float, cast=float):
    value = (environ.get(name) or "").strip()
    if not value:
        return default
    try:
        number = cast(value)
    except ValueError:
        raise SettingError(f"{name}={value!r} is not a number.") from None
    if number < 0:
        raise SettingError(f"{name}={value!r} must not be negative.")
    return number


def _flag(environ: Mapping[str, str], name: str) -> bool:
    value = (environ.get(name) or "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise SettingError(f"{name}={value!r} is not one of 1, 0, true, false, yes, no, on, off.")


@dataclass(frozen=True)
class ApiSettings:
    # Per token: a bucket of `burst` requests refilled at `rate_per_minute`; 0 = no limit.
    rate_per_minute: float = 60.0
    burst: int = 20
    open_loopback: bool = False  # ASSISTANT_API_OPEN=1: loopback clients need no token
    admins: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 secrets: Mapping | None = None) -> ApiSettings:
        """Raises SettingError (one line) for a value that cannot be used."""
        env = os.environ if environ is None else environ
        return cls(rate_per_minute=_number(env, "ASSISTANT_API_RATE", 60.0),
                   burst=max(1, _number(env, "ASSISTANT_API_BURST", 20, int)),
                   open_loopback=_flag(env, OPEN_ENV),
                   admins=read_admins(env, secrets or {}))
