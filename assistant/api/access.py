"""Who is calling the API: the token in `Authorization: Bearer …` decides, and the token acts as
its user (the app's allow-list applies to it as to a signed-in person). Decided here, without
FastAPI, so the rules are tested as plain functions."""

from __future__ import annotations

from dataclasses import dataclass

from .. import access as accesslib
from ..ui.auth import AllowList, is_loopback
from .ratelimit import RateLimiter, retry_after
from .settings import OPEN_ENV, ApiSettings
from .tokens import PREFIX, TokenStore

HOW_TO_GET = ("make one in the app's sidebar (API tokens) or with `assistant token create "
              "--user EMAIL`")


class ApiError(Exception):
    """An expected refusal: HTTP status, one line for the client, the OpenAI error type."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error",
                 headers: dict[str, str] | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.headers = headers or {}
        self.code = code

    def body(self) -> dict:
        """OpenAI's error shape, which chat clients show: {"error": {"message", "type", …}}."""
        return {"error": {"message": self.message, "type": self.kind, "code": self.code,
                          "param": None}}


@dataclass(frozen=True)
class Caller:
    """Who a request acts for. `user` None: a tokenless loopback client (ASSISTANT_API_OPEN)."""

    user: str | None
    token_id: str | None = None
    admin: bool = False


def _unauthorized(message: str, code: str) -> ApiError:
    return ApiError(401, message, "authentication_error", {"WWW-Authenticate": "Bearer"}, code)


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header; None without one; "" when malformed."""
    if header is None or not header.strip():
        return None
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else ""


def is_admin(user: str, api: ApiSettings) -> bool:
    """An administrator: named in ASSISTANT_ADMINS / secrets.toml (read when the server started)
    or in the access rules' `admins` (read now): the same list as the page's."""
    return accesslib.is_admin(accesslib.Reader.of(user), admins=api.admins)


class Gate:
    def __init__(self, tokens: TokenStore, api: ApiSettings, allow: AllowList | None = None,
                 limiter: RateLimiter | None = None):
        self.tokens = tokens
        self.api = api
        self.allow = allow or AllowList()
        self.limiter = limiter or RateLimiter(api.rate_per_minute, api.burst)

    def check(self, authorization: str | None, client_host: str | None,
              proxied: bool = False) -> Caller:
        """The caller, or ApiError (401 no/bad/revoked token, 403 user no longer allowed,
        429 over the rate limit). `proxied`: the request came through a proxy (Forwarded or
        X-Forwarded-For), so its loopback address says nothing about the real client."""
        token = bearer(authorization)
        local = self.api.open_loopback and is_loopback(client_host) and not proxied
        if local and (token is None or not token.startswith(PREFIX)):
            # Open for local scripts; clients that insist on an API key may send any non-token.
            return Caller(user=None)
        if token is None:
            hint = "" if not self.api.open_loopback else (
                f" ({OPEN_ENV}=1 opens the API to this machine's own clients only)")
            raise _unauthorized(f"No API token: send `Authorization: Bearer <token>`; "
                                f"{HOW_TO_GET}{hint}.", "missing_token")
        if token == "":
            raise _unauthorized("The Authorization header must be `Bearer <token>`.",
                                "malformed_authorization")
        info = self.tokens.lookup(token)
        if info is None:
            raise _unauthorized(f"Unknown API token; {HOW_TO_GET}.", "invalid_token")
        if not info.active:
            raise _unauthorized(f"This API token ({info.name}) was revoked on "
                                f"{info.revoked}; make a new one.", "revoked_token")
        if not self.allow.permits(info.user):
            raise ApiError(403, f"{info.user} may no longer use the Article Assistant (not on "
                           "the allow-list); ask its administrator.", "permission_error",
                           code="not_allowed")
        wait = self.limiter.take(info.id)
        if wait > 0:
            raise ApiError(429, f"Rate limit: at most {self.api.rate_per_minute:g} requests a "
                           f"minute per token (bursts of {self.api.burst}); retry in "
                           f"{retry_after(wait)} s.", "rate_limit_error",
                           {"Retry-After": retry_after(wait)}, "rate_limited")
        return Caller(user=info.user, token_id=info.id, admin=is_admin(info.user, self.api))
