"""Splitting a generated answer into sentences ("claims") with the passages each cites, and
recognising a declined answer."""

from __future__ import annotations

import re
from dataclasses import dataclass

DECLINE_TOKEN = "NOT_IN_ARTICLES"


@dataclass(frozen=True)
class Claim:
    """One generated sentence: its text as shown (markers removed, whitespace tidied) and the
    passages it cites (1-based, de-duplicated, in order of appearance)."""

    text: str
    cited: tuple[int, ...] = ()



# ----------------------------------------------------------------------------- splitting

_MARK_INNER = r"(?:(?:passages?|sources?|refs?|p\.?)\s*)?\d+(?:\s*(?:,|;|-|–|—|and|&)\s*\d+)*"
_MARK = re.compile(rf"\[\s*{_MARK_INNER}\s*\]", re.I)
_MARKS = re.compile(rf"(?:\s*\[\s*{_MARK_INNER}\s*\])+", re.I)
_CLOSERS = "\"'”’)]»"
# A sentence ends at . ! ? (or …), with closing quotes/brackets and citation markers after it,
# before white space and the end of the line or a character that can start a sentence.
_END = re.compile(rf"[.!?…]+[{re.escape(_CLOSERS)}]*(?P<marks>{_MARKS.pattern})?(?=\s+|$)", re.I)
_ABBREV = {
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "gen", "col", "lt", "sgt", "capt", "gov",
    "sen", "rep", "rev", "fr", "mt", "ft", "no", "nos", "vs", "etc", "e.g", "i.e", "eg", "ie", "c",
    "ca", "approx", "inc", "ltd", "co", "corp", "dept", "est", "fig", "vol", "pp", "ed", "jan",
    "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k",
    "u.n", "a.d", "b.c", "al", "cf", "op", "ch", "sec", "art", "pt", "min", "max", "hon", "messrs",
}
_LIST_PREFIX = re.compile(r"^\s*(?:[-*•+]\s+|\d{1,3}[.)]\s+|#{1,6}\s+|>\s*)+")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")


def _marker_numbers(text: str) -> list[int]:
    out: list[int] = []
    for m in _MARK.finditer(text):
        inner = re.sub(r"(?i)passages?|sources?|refs?|p\.?", " ", m.group(0)[1:-1])
        for part in re.split(r"\s*(?:,|;|and|&)\s*", inner.strip()):
            r = re.fullmatch(r"\s*(\d+)\s*[-–—]\s*(\d+)\s*", part)
            if r:
                a, b = int(r.group(1)), int(r.group(2))
                out.extend(range(a, b + 1) if 0 <= b - a <= 20 else (a, b))
            elif part.strip().isdigit():
                out.append(int(part))
    return out


def _tidy(text: str) -> str:
    text = _MARKS.sub(" ", text)
    text = _EMPHASIS.sub("", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([.,;:!?…%)\]])", r"\1", text)
    text = re.sub(r"([(\[])\s+", r"\1", text)
    return text


def _is_boundary(line: str, m: re.Match) -> bool:
    """Whether the sentence-final punctuation matched at m ends a sentence."""
    after = line[m.end():].lstrip()
    if not after:
        return True
    if m.group("marks"):  # "... end. [1] Next" or "... end [1]. Next": the model's own boundary
        return True
    first = after[0]
    if first.islower():
        return False
    if m.group(0)[0] != ".":
        return True
    word = re.search(r"([\w.]+)\.$", line[: m.start() + 1])
    if word:
        w = word.group(1).lower()
        if w in _ABBREV or (len(w) == 1 and w.isalpha()) or re.fullmatch(r"(?:\w\.)+\w", w):
            return False
    return True


def _sentences(line: str) -> list[str]:
    out, start = [], 0
    for m in _END.finditer(line):
        if _is_boundary(line, m):
            out.append(line[start: m.end()])
            start = m.end()
    out.append(line[start:])
    return [s for s in out if s.strip()]


def split_claims(answer: str) -> list[Claim]:
    """The answer's sentences with their citation markers. Markers may stand before or after
    the final punctuation ("... 1763 [1]." or "... 1763. [1]"), be grouped ("[1, 2]", "[1][3]",
    "[1] [2]", "[2-4]"), or sit inside the sentence; a line of only markers goes to the sentence
    before it. Lines are split first; list bullets, heading marks and emphasis are removed."""
    claims: list[Claim] = []
    for raw in (answer or "").splitlines():
        line = _LIST_PREFIX.sub("", raw)
        for sent in _sentences(line):
            cited = tuple(dict.fromkeys(_marker_numbers(sent)))
            text = _tidy(sent)
            if not re.search(r"\w", text):
                if cited and claims:  # markers alone: they belong to the sentence before
                    prev = claims[-1]
                    claims[-1] = Claim(prev.text, tuple(dict.fromkeys(prev.cited + cited)))
                continue
            claims.append(Claim(text, cited))
    return claims


_DECLINE = re.compile(r"not[\s_-]*in[\s_-]*(?:the[\s_-]*)?articles?", re.I)


def is_declined(answer: str) -> bool:
    """The model said NOT_IN_ARTICLES: the whole answer, or one line of it, is the token (with any
    quotes, punctuation or markdown around it), or the exact token appears anywhere."""
    if DECLINE_TOKEN in (answer or ""):
        return True
    for line in [answer or "", *(answer or "").splitlines()]:
        core = re.sub(r"[\W_]*$", "", re.sub(r"^[\W_]*", "", line.strip()))
        if core and _DECLINE.fullmatch(core):
            return True
    return False


