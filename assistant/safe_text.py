"""Making untrusted text safe to show: article text, file names, model output and model names
reach a terminal, a Markdown renderer and log lines. Three pieces, each the one place its rule
lives:

- `strip_controls`: control characters (C0, DEL, C1: a terminal's escape sequences start with
  ESC or CSI) removed; line feeds and tabs kept. Loaders apply it after entity decoding, the CLI
  to everything it prints.
- `neutralize_links`: text that a GFM renderer would turn into a live link even when every
  Markdown character is escaped (`http://`, `https://`, `www.`, e-mail addresses: the autolink
  extension looks at the text after escapes are resolved) gets an invisible WORD JOINER (U+2060)
  that breaks the pattern. `ui_support.escape_markdown` calls it, so every Markdown the app and
  the export write goes through it.
- `redact_url` / `redact_urls`: user name and password removed from URLs shown or logged.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# Unicode category Cc except tab and line feed; a carriage return becomes a line feed first.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """`text` without control characters (tab and line feed kept; CR LF and CR become LF)."""
    text = str(text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def strip_controls_line(text: str) -> str:
    """One line of `text` (a title, a file name): control characters and line breaks removed."""
    return _CONTROL.sub("", str(text).replace("\r", " ").replace("\n", " ").replace("\t", " "))


WORD_JOINER = "\u2060"
# What remark-gfm (Streamlit's Markdown) and GitHub link without angle brackets: a scheme with
# "://" (http, https, ftp, mailto: and friends), "www." and e-mail addresses "local@domain.tld".
_SCHEME = re.compile(r"(?i)(?<![^\W_])(https?|ftp|ftps|file|mailto|xmpp)(?=:)")
_WWW = re.compile(r"(?i)(?<![^\W_])(www)(?=\.)")
_AT = re.compile(r"(?<=[\w.+-])@(?=[\w-])")


def neutralize_links(text: str) -> str:
    """`text` that no Markdown autolinker turns into a link: a WORD JOINER after the scheme of
    a URL ("http\u2060://"), after "www" ("www\u2060.") and before the "@" of an e-mail address.
    The text reads and copies the same (the joiner is invisible and zero-width)."""
    text = _SCHEME.sub(lambda m: m.group(1) + WORD_JOINER, text)
    text = _WWW.sub(lambda m: m.group(1) + WORD_JOINER, text)
    return _AT.sub(WORD_JOINER + "@", text)


def redact_url(url: str) -> str:
    """The URL without its user name and password ("http://u:p@host/v1" -> "http://host/v1");
    text that is not a URL with credentials comes back unchanged."""
    url = str(url or "")
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_urls(url)
    if not parts.netloc or "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]*@")


def redact_urls(text: str) -> str:
    """Every "scheme://user:password@" in free text (an error message, a log line) cut to
    "scheme://"."""
    return _USERINFO.sub(r"\1", str(text or ""))


class SafeStream:
    """A text stream wrapper that removes control characters from everything written: the CLI
    puts it around stdout and stderr, so no article text, file name or model output reaches the
    terminal raw."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(strip_controls(text))
        return len(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)
