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
# A match never starts inside a run of white space (it would end where the run's first one
# does), which keeps finditer/sub linear on long white space.
_MARKS = re.compile(rf"(?<!\s)(?:\s*+\[\s*{_MARK_INNER}\s*\])+", re.I)
_CLOSERS = "\"'”’)]»"
# A sentence ends at . ! ? (or …), with closing quotes/brackets and citation markers after it,
# before white space and the end of the line or a character that can start a sentence.
# Linear: a match starts only at the first of a run of end punctuation (possessive, so a run of
# 20,000 dots is one attempt, not 20,000 each rescanning the run).
_END = re.compile(rf"(?<![.!?…])[.!?…]++[{re.escape(_CLOSERS)}]*(?P<marks>(?:\s*+\[\s*"
                  rf"{_MARK_INNER}\s*\])+)?(?=\s|$)", re.I)
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


_NONSPACE = re.compile(r"\S")


def _is_boundary(line: str, m: re.Match) -> bool:
    """Whether the sentence-final punctuation matched at m ends a sentence."""
    nxt = _NONSPACE.search(line, m.end())  # not line[m.end():].lstrip(): a copy per match
    if not nxt:
        return True
    if m.group("marks"):  # "... end. [1] Next" or "... end [1]. Next": the model's own boundary
        return True
    first = nxt.group()
    if first.islower():
        return False
    if m.group(0)[0] != ".":
        return True
    w = _word_before(line, m.start())
    if w:
        w = w.lower()
        if w in _ABBREV or (len(w) == 1 and w.isalpha()) or re.fullmatch(r"(?:\w\.)+\w", w):
            return False
    return True


_ABBREV_SPAN = 32  # longer than any abbreviation or initialism the rules below accept


def _word_before(line: str, end: int) -> str:
    """The run of word characters and dots ending just before line[end] (the full stop that
    may end a sentence), or "" when there is none or it is longer than _ABBREV_SPAN (then it
    is no abbreviation). Bounded: a sentence split stays linear however long the line."""
    i = end
    lo = max(0, end - _ABBREV_SPAN - 1)
    while i > lo and (line[i - 1] == "." or line[i - 1].isalnum() or line[i - 1] == "_"):
        i -= 1
    if i == lo and lo > 0 and (line[i - 1] == "." or line[i - 1].isalnum() or line[i - 1] == "_"):
        return ""
    return line[i:end]


def _sentences(line: str) -> list[str]:
    out, start = [], 0
    for m in _END.finditer(line):
        if _is_boundary(line, m):
            out.append(line[start: m.end()])
            start = m.end()
    out.append(line[start:])
    return [s for s in out if s.strip()]


def _add_sentence(claims: list[Claim], sent: str) -> None:
    cited = tuple(dict.fromkeys(_marker_numbers(sent)))
    text = _tidy(sent)
    if not re.search(r"\w", text):
        if cited and claims:  # markers alone: they belong to the sentence before
            prev = claims[-1]
            claims[-1] = Claim(prev.text, tuple(dict.fromkeys(prev.cited + cited)))
        return
    claims.append(Claim(text, cited))


def split_claims(answer: str) -> list[Claim]:
    """The answer's sentences with their citation markers. Markers may stand before or after
    the final punctuation ("... 1763 [1]." or "... 1763. [1]"), be grouped ("[1, 2]", "[1][3]",
    "[1] [2]", "[2-4]"), or sit inside the sentence; a line of only markers goes to the sentence
    before it. Lines are split first; list bullets, heading marks and emphasis are removed."""
    claims: list[Claim] = []
    for raw in (answer or "").splitlines():
        for sent in _sentences(_LIST_PREFIX.sub("", raw)):
            _add_sentence(claims, sent)
    return claims


# What str.splitlines() breaks lines at.
_LINE_BREAK = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_MARKER_WAIT = 256  # an unclosed "[" this far after a full stop is no citation marker


def _decided(buf: str, pos: int) -> bool:
    """Whether the text after a sentence end at `pos` is there to decide it: a non-space
    character that does not start a citation marker, or markers (each closed) followed by one.
    Markers and white space of _MARKER_WAIT characters or more decide too (no model writes them)."""
    limit = pos + _MARKER_WAIT
    while True:
        nxt = _NONSPACE.search(buf, pos)
        if nxt is None:
            return len(buf) >= limit
        if nxt.group() != "[":
            return True
        close = buf.find("]", nxt.end(), limit)
        if close < 0:
            return len(buf) >= limit
        pos = close + 1


class ClaimStream:
    """`split_claims` for an answer that arrives in pieces, without re-splitting the text so
    far for every piece: `feed` settles each sentence once the text after it decides where it
    ends (the first non-space character after its end punctuation, and the "]" of a marker
    that starts there), so every character is scanned a bounded number of times. `claims`
    equals split_claims of the text fed so far, up to the sentence still open; `final` is how
    many of them no later text can change (all but the last, which a line of only markers may
    still join, until `close`)."""

    def __init__(self):
        self.claims: list[Claim] = []
        self.closed = False
        self._buf = ""  # the open line: its settled sentences already cut off
        self._pos = 0  # where the next sentence end is looked for in _buf
        self._prefix_done = False  # list bullet or heading mark at the line's start removed

    @property
    def final(self) -> int:
        return len(self.claims) if self.closed else max(0, len(self.claims) - 1)

    def feed(self, piece: str) -> None:
        if self.closed:
            raise ValueError("the stream is closed")
        start = max(0, len(self._buf) - 1)  # "\r" + "\n" across pieces is one break
        self._buf += piece
        while True:
            brk = _LINE_BREAK.search(self._buf, start)
            if brk is None:
                break
            if brk.group() == "\r" and brk.end() == len(self._buf):
                break  # a "\n" may follow in the next piece
            self._line(self._buf[:brk.start()])
            self._buf, self._pos, self._prefix_done, start = self._buf[brk.end():], 0, False, 0
        self._settle()

    def close(self) -> list[Claim]:
        if not self.closed:
            self._line(self._buf[:-1] if self._buf.endswith("\r") else self._buf)
            self._buf, self.closed = "", True
        return self.claims

    def _line(self, line: str) -> None:
        """A complete line (what is left of it): everything in it is settled."""
        if not self._prefix_done:
            line = _LIST_PREFIX.sub("", line)
        for sent in _sentences(line):
            _add_sentence(self.claims, sent)

    def _settle(self) -> None:
        buf = self._buf
        if not self._prefix_done:
            m = _LIST_PREFIX.match(buf)
            end = m.end() if m else 0
            if len(buf) - end < 16:
                return  # the bullet or mark may go on
            buf = buf[end:]
            self._prefix_done, self._pos = True, 0
        cut = 0
        while True:
            m = _END.search(buf, self._pos)
            if m is None:
                # An end that a marker still being written may complete ("end.[1" + "] Next")
                # starts at the last end punctuation, if that is near.
                lo = max(cut, len(buf) - _MARKER_WAIT)
                last = max(buf.rfind(c, lo) for c in ".!?…")
                while lo < last and buf[last - 1] in ".!?…":  # to the start of its run
                    last -= 1
                self._pos = last if last >= 0 else max(cut, len(buf) - 1)
                break
            if m.end() - m.start() <= _MARKER_WAIT and not _decided(buf, m.end()):
                self._pos = m.start()  # wait: the text after decides
                break
            if _is_boundary(buf, m):
                sent = buf[cut:m.end()]
                if sent.strip():
                    _add_sentence(self.claims, sent)
                cut = m.end()
            self._pos = m.end()
        if cut:
            buf = buf[cut:]
            self._pos -= cut
        self._buf = buf


_DECLINE = re.compile(r"not[\s_-]*in[\s_-]*(?:the[\s_-]*)?articles?", re.I)


def is_declined(answer: str) -> bool:
    """The model said NOT_IN_ARTICLES: the whole answer, or one line of it, is the token (with any
    quotes, punctuation or markdown around it), or the exact token appears anywhere."""
    if DECLINE_TOKEN in (answer or ""):
        return True
    for line in [answer or "", *(answer or "").splitlines()]:
        core = _strip_nonword(line.strip())
        if core and len(core) <= 40 and _DECLINE.fullmatch(core):
            return True
    return False


_NONWORD_HEAD = re.compile(r"[\W_]*")


def _strip_nonword(text: str) -> str:
    """`text` without non-word characters at either end, in linear time (an end-anchored
    search is quadratic on a long run of punctuation)."""
    head = _NONWORD_HEAD.match(text)
    text = text[head.end() if head else 0:]
    tail = _NONWORD_HEAD.match(text[::-1])
    return text[: len(text) - (tail.end() if tail else 0)]


