"""Who signed in, from the identity token's claims, and when their e-mail address counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    """The signed-in user, from the identity token's claims."""

    email: str | None  # None when the provider says the address is not verified
    sub: str | None
    name: str | None
    groups: tuple[str, ...] = ()  # the provider's groups claim, for the access rules

    @property
    def label(self) -> str:
        """What feedback lines and the sidebar record: the e-mail address, else the subject."""
        return self.email or (f"sub:{self.sub}" if self.sub else "unknown user")


def identity(claims: Mapping, trusted_issuers: Sequence[str] = ()) -> Identity:
    """The e-mail address counts only when the provider vouches for it: `email_verified` is
    the JSON value true (a missing claim, 0, "no" or "true"-like strings are not proof: anyone
    can type an address into an account they made). A provider whose issuer is in
    `trusted_issuers` (trust_unverified_email = true in its [auth] section, for providers such
    as Entra ID that never send the claim) is believed unless it says false."""
    def text(key: str) -> str | None:
        value = claims.get(key)
        return (str(value).strip() or None) if value is not None else None

    email = text("email")
    verified = claims.get("email_verified")
    issuer = (text("iss") or "").rstrip("/")
    if issuer and issuer in trusted_issuers:
        if verified is False or (isinstance(verified, str) and verified.lower() == "false"):
            email = None
    elif verified is not True:
        email = None
    groups = claims.get("groups") or ()
    groups = (groups,) if isinstance(groups, str) else groups
    return Identity(email.lower() if email else None, text("sub"), text("name"),
                    tuple(str(g) for g in groups if isinstance(g, (str, int))))


TRUST_UNVERIFIED_KEY = "trust_unverified_email"
_METADATA_SUFFIX = "/.well-known/openid-configuration"


def trusted_issuers(auth: Mapping, providers: Sequence[str]) -> tuple[str, ...]:
    """The issuers (server_metadata_url without its well-known suffix) of the providers whose
    section sets trust_unverified_email = true."""
    out = []
    for name in providers:
        section = auth if name == "" else auth.get(name, {})
        if section.get(TRUST_UNVERIFIED_KEY) is True:
            url = str(section.get("server_metadata_url", ""))
            out.append(url.removesuffix(_METADATA_SUFFIX).rstrip("/"))
    return tuple(out)
