"""The verifier of the optional LLM reader: a generated sentence is shown only when a passage it
cites supports it. Pure functions (no I/O); the caller passes the passages and an `encode`
function (`Embedder.encode_queries` in the product, a fake in unit tests).

A sentence is supported by a cited passage when
1. every figure in it (number, year, amount, percentage, ordinal, code such as "A380") occurs in
   the passage, with normalisation ("1,000" = "1000", "$5m" = "$5 million" = "5,000,000 dollars",
   "42 per cent" = "42%", "three" = "3", "19th" = "nineteenth");
2. every capitalised word (a name, a month, a day) occurs in the passage in any case, stem or
   possessive form. The first word of a sentence is capitalised anyway: it is skipped when it is a
   function or discourse word ("The", "However", "In"), and checked like a name otherwise, so
   "Obama said ..." fails against a passage without "Obama" while "Steam engines ..." passes a
   passage that says "steam";
3. its meaning is close to one span of the passage (a sentence, or two adjacent sentences): the
   cosine of the sentence's vector to the best span's vector is at least `min_similarity`;
   with `figures_in_span`, only spans that hold all the sentence's figures count, so a figure
   taken from another sentence of the passage does not pass;
4. enough of its content words (stemmed, stop words removed: `lexical.tokenize`) occur in that
   best span: at least `min_overlap` of them. (The span, not the whole passage: a passage on
   the same subject shares many words with any sentence about it; the benchmark's fitting half
   showed the span's words separate mis-citations from paraphrases better.)

A sentence with no citation, only out-of-range citations, or no content words at all ("Here is
the answer:") is dropped: a demanding reader wants only verified text. A citation that does not
support a sentence is removed from it; the sentence is kept when another of its citations does.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

Encode = Callable[[list[str]], np.ndarray]
Spans = Sequence[tuple[int, int]]

DECLINE_TOKEN = "NOT_IN_ARTICLES"


@dataclass(frozen=True)
class VerifySettings:
    """Thresholds of the meaning test, chosen on data by benchmarks/bench_verifier.py on the
    fitting half (5 of the 16 articles, split by article) of sentences made from SQuAD v2
    dev-half: the highest recall of "shown" with precision >= 0.985, then the middle of the
    region of settings tied there. Fitting half: precision 0.993, recall 0.998 (408 supported,
    1,538 unsupported sentences). Reporting half (11 articles): precision 0.986, recall 0.995
    (849 supported, 3,135 unsupported). See benchmarks/results/verifier.json."""

    min_similarity: float = 0.52  # cosine of the sentence to its best span
    min_overlap: float = 0.75  # share of the sentence's content words in that span
    figures_in_span: bool = True  # the best span must hold all the sentence's figures

    def __post_init__(self):
        for name in ("min_similarity", "min_overlap"):
            v = getattr(self, name)
            if not -1.0 <= v <= 1.0:
                raise ValueError(f"{name} must be within [-1, 1], got {v}")


DEFAULT_VERIFY_SETTINGS = VerifySettings()


@dataclass(frozen=True)
class Claim:
    """One generated sentence: its text as shown (markers removed, whitespace tidied) and the
    passages it cites (1-based, de-duplicated, in order of appearance)."""

    text: str
    cited: tuple[int, ...] = ()


@dataclass(frozen=True)
class Support:
    ok: bool
    reason: str  # "" when ok, else one line for people
    span: tuple[int, int]  # best-matching span in the passage text: the citation's quote
    similarity: float
    overlap: float


@dataclass(frozen=True)
class Verification:
    kept: list[tuple[Claim, dict[int, Support]]] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (sentence, why)
    declined: bool = False
    # Citations taken off a kept sentence: (sentence, n, why).
    removed_citations: list[tuple[str, int, str]] = field(default_factory=list)


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


# ----------------------------------------------------------------------------- normalising

_TRANS = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2007": " ",
})


def _fold(text: str) -> str:
    """Quotes, dashes and spaces to ASCII, accents off: the form all matching is done on.
    Length changes are fine: offsets are never taken from the folded text."""
    text = text.translate(_TRANS)
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _stemmer():
    from .lexical import _stemmer as stemmer

    return stemmer()


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


# Words that may start a sentence without being a name: function words and discourse markers.
_LEADING = set("""
a about above according accordingly additionally after afterwards again against all almost also
although always among amongst an and another any apart approximately are around as at back based
because before being below beside besides between both briefly but by can certainly consequently
conversely could currently despite did do does due during each earlier early eventually even
every finally first firstly following for formerly from further furthermore generally given had
has have he hence her here his historically how however i if importantly in including indeed
initially instead it its later lastly less like likewise many meanwhile more moreover most much
namely nearly neither nevertheless next no nonetheless nor not notably note now of often on once
one only or originally other others otherwise our over overall per perhaps previously prior
rather recently regarding roughly second secondly several she shortly similarly since so some
specifically still subsequently such summary that the their then thereafter there therefore
these they third thirdly this those though throughout thus to today together traditionally
typically ultimately under unlike until upon usually was we were what whatever when whenever
where whereas whether which while who whom whose why with within without yes yet you your
essentially basically answer answers in short also altogether yesterday tomorrow soon shortly
few fewer least just even especially particularly mainly mostly largely primarily partly
partially chiefly merely simply clearly apparently reportedly allegedly nearly around still
already almost hardly sometimes frequently commonly widely rarely seldom never ever always
occasionally
""".split())
# Ordinary adjectives that often open a sentence ("Numerous Huguenots fled").
_COMMON_OPENERS = set("""
numerous various multiple little major minor key main large small big new old modern ancient
early late recent former latter certain different similar same whole entire
""".split())
# Adverb endings; names that end in -ly mostly do not end like these ("Italy", "Beverly", "Kelly").
_ADVERB_ENDINGS = ("ally", "ously", "ively", "ately", "edly", "ingly", "ently", "antly", "ibly",
                   "ably", "fully", "lessly", "ctly", "ghly", "stly", "rtly", "arly", "etly",
                   "ntly", "tly", "mply", "ily")
_PREPS = {"in", "on", "at", "by", "from", "as", "with", "to", "for", "into", "during", "after",
          "before", "under", "over", "through", "the", "a", "an", "its", "their", "his", "her"}


@lru_cache(maxsize=1)
def _function_words() -> frozenset[str]:
    try:
        from bm25s.stopwords import STOPWORDS_EN_PLUS

        return frozenset(_LEADING | {w for w in STOPWORDS_EN_PLUS if "'" not in w})
    except ImportError:  # pragma: no cover - bm25s is a dependency
        return frozenset(_LEADING)


_WORD = re.compile(r"[^\W\d_][\w'\-.]*[^\W_]|[^\W\d_]", re.U)
_ACRONYM = re.compile(r"\b(?:[A-Za-z]\.){2,}")
_ALNUM = re.compile(r"[^\W_]+", re.U)


def _word_parts(word: str) -> list[str]:
    """Stemmed lowercase parts of a word: possessive off, split at hyphens and apostrophes,
    acronym dots removed ("U.S." -> "us")."""
    w = _fold(word)
    if _ACRONYM.fullmatch(w + ("." if not w.endswith(".") else "")):
        w = w.replace(".", "")
    w = re.sub(r"'s$|'$", "", w.rstrip(".")).lower()
    return [_stem(p) for p in _ALNUM.findall(w) if not p.isdigit()]


def _text_word_keys(text: str) -> set[str]:
    """Every word of a text, in the form names are matched in."""
    t = _fold(text)
    keys = set()
    for m in _ACRONYM.finditer(t):
        keys.add(_stem(m.group(0).replace(".", "").lower()))
    t = re.sub(r"'s\b", "", t)
    for p in _ALNUM.findall(t.lower()):
        if not p.isdigit():
            keys.add(_stem(p))
    return keys


# A place and its people's adjective are one name to the check ("France" / "French").
_DEMONYMS = """france:french britain:british england:english china:chinese america:american
germany:german spain:spanish italy:italian russia:russian japan:japanese india:indian
poland:polish netherlands:dutch holland:dutch switzerland:swiss sweden:swedish norway:norwegian
denmark:danish ireland:irish scotland:scottish scotland:scots wales:welsh greece:greek
turkey:turkish egypt:egyptian rome:roman europe:european africa:african asia:asian
arabia:arab arabia:arabian persia:persian mexico:mexican canada:canadian australia:australian
brazil:brazilian portugal:portuguese belgium:belgian austria:austrian hungary:hungarian
israel:israeli iran:iranian iraq:iraqi syria:syrian korea:korean vietnam:vietnamese
mongolia:mongol mongolia:mongolian normandy:norman byzantium:byzantine prussia:prussian
venice:venetian naples:neapolitan paris:parisian london:londoner ukraine:ukrainian
finland:finnish iceland:icelandic scandinavia:scandinavian britain:briton""".split()


@lru_cache(maxsize=1)
def _demonyms() -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for pair in _DEMONYMS:
        place, people = (_stem(w) for w in pair.split(":"))
        out.setdefault(place, set()).add(people)
        out.setdefault(people, set()).add(place)
    return {k: frozenset(v) for k, v in out.items()}


def _name_part_in(part: str, words: frozenset[str] | set[str]) -> bool:
    return part in words or bool(_demonyms().get(part, frozenset()) & words)


@dataclass(frozen=True)
class _Name:
    text: str
    parts: tuple[str, ...]


def _common_opener(word: str, rest: str) -> bool:
    """Whether a capitalised first word is an ordinary word rather than a name: a function or
    discourse word, an adverb in -ly ("Roughly", "Historically"), or a participle that opens a
    phrase ("Founded in 1636, ...", "Using the ..."). Names that end like that ("Italy",
    "Beijing is ...") are still checked when they do not open such a phrase."""
    if word in _function_words() or _stem(word) in _function_words() or word in _COMMON_OPENERS:
        return True  # ("New York": "York" is still checked)
    nxt = re.match(r"\s*([A-Za-z]+)", rest)
    nxt_word = nxt.group(1) if nxt else ""
    if nxt_word[:1].isupper():  # "Barack Obama", "Kelly Smith": a name
        return False
    if word.endswith(_ADVERB_ENDINGS) and len(word) >= 6:
        return True
    if len(word) >= 5 and word.endswith(("ed", "ing")) and nxt_word in _PREPS:
        return True
    return False


def _names(claim: str, figures: Sequence[_Figure] = ()) -> list[_Name]:
    """Capitalised words that must occur in the passage. The first word of the sentence (or of a
    quotation or a clause after a colon) is skipped when it is a function word; words that are
    part of a figure ("Three", "US$5") are checked as figures."""
    text = _fold(claim)
    inside = [f.span for f in figures]
    words = [m for m in re.finditer(r"(?:[A-Za-z]\.){2,}|" + _WORD.pattern, text)]
    out: list[_Name] = []
    for m in words:
        w = m.group(0)
        if not w[0].isupper() or any(a <= m.start() < b for a, b in inside):
            continue
        before = text[: m.start()].rstrip()
        lead = not before or before[-1] in ".!?:;\"'([{-"
        core = w.rstrip(".").lower()
        core = re.sub(r"'s$|'$", "", core)
        if w == "I" or (lead and _common_opener(core, text[m.end():])):
            continue
        parts = tuple(_word_parts(w))
        if parts:
            out.append(_Name(w.rstrip(".") if not _ACRONYM.fullmatch(w) else w, parts))
    return out


# ----------------------------------------------------------------------------- figures

_UNITS = {"zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
          "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
          "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
          "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_ORD = {"fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
        "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
        "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
        "twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50, "sixtieth": 60,
        "seventieth": 70, "eightieth": 80, "ninetieth": 90, "hundredth": 100,
        "thousandth": 1000}
# "first", "second", "third" and "one" are everyday words ("one of", "the first time"): a passage
# that writes them still counts (passage side), but a sentence is not held to them.
_ORD_LOOSE = {"first": 1, "second": 2, "third": 3}
_SCALE = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9,
          "trillion": 10**12, "k": 1000, "m": 10**6, "mn": 10**6, "mln": 10**6, "bn": 10**9,
          "b": 10**9, "tn": 10**12}
_CURRENCY = {"$": "usd", "us$": "usd", "usd": "usd", "dollar": "usd", "dollars": "usd",
             "£": "gbp", "gbp": "gbp", "pound": "gbp", "pounds": "gbp", "sterling": "gbp",
             "€": "eur", "eur": "eur", "euro": "eur", "euros": "eur",
             "¥": "jpy", "yen": "jpy", "jpy": "jpy", "₹": "inr", "rupees": "inr"}

_NUM = re.compile(
    r"(?<![\w.])(?P<cur>US\$|\$|£|€|¥|₹|(?:USD|GBP|EUR)\s?)?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:(?P<ord>st|nd|rd|th)\b|(?P<dec>'?s)\b)?"
    r"(?:\s?(?P<scale>hundred|thousand|million|billion|trillion|mln|mn|bn|tn|k|m|b)\b)?"
    r"(?:\s?(?P<pct>%|per\s?cent\b|percent\b|pc\b))?"
    r"(?:\s(?P<curw>dollars?|pounds?(?:\ssterling)?|euros?|yen|rupees)\b)?",
    re.I)
_NUMWORD = re.compile(
    r"\b(?P<w>(?:(?:%s)(?:[\s-](?:%s))?|%s)(?:[\s-](?:hundred|thousand|million|billion))*)\b"
    r"(?:\s?(?P<pct>%%|per\s?cent\b|percent\b))?"
    % ("|".join(_TENS), "two|three|four|five|six|seven|eight|nine|one",
       "|".join(list(_UNITS) + ["one", "hundred", "thousand", "million", "billion"])),
    re.I)
_ORDWORD = re.compile(r"\b(?:(?:%s)[\s-])?(?:%s)\b" % ("|".join(_TENS), "|".join(
    list(_ORD) + list(_ORD_LOOSE))), re.I)
_CODE = re.compile(r"(?<![\w])(?=[\w-]*[A-Za-z])(?=[\w-]*\d)[A-Za-z]+\d[\w]*"
                   r"|(?<![\w])\d+[A-Za-z]{2,}\w*", re.U)


def _canon(d: Decimal) -> str:
    d = d.normalize()
    return format(d, "f") if d == d.to_integral_value() else str(d)


@dataclass(frozen=True)
class _Figure:
    text: str
    keys: frozenset[str]  # any one of them in the passage will do
    span: tuple[int, int] = (0, 0)  # in the folded text


def _word_value(words: str) -> int | None:
    total, current = 0, 0
    for w in re.split(r"[\s-]+", words.lower()):
        if w in _UNITS:
            current += _UNITS[w]
        elif w == "one":
            current += 1
        elif w in _TENS:
            current += _TENS[w]
        elif w == "hundred":
            current = max(current, 1) * 100
        elif w in ("thousand", "million", "billion"):
            total += max(current, 1) * _SCALE[w]
            current = 0
        else:
            return None
    return total + current


def _figures(text: str, claim: bool) -> list[_Figure]:
    """The figures of a text with the keys they match by. A claim's figure is supported when one
    of its keys is among the passage's keys (see _passage_keys)."""
    t = _fold(text)
    out: list[_Figure] = []
    taken: list[tuple[int, int]] = []
    for m in _NUM.finditer(t):
        raw = m.group("num").replace(",", "")
        try:
            value = Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the pattern only matches numbers
            continue
        taken.append(m.span())
        cur = m.group("cur") or m.group("curw")
        cur = _CURRENCY.get(re.sub(r"\s+sterling", "", cur.strip().lower())) if cur else None
        scale_word = (m.group("scale") or "").lower()
        if scale_word in ("m", "b", "k") and not cur and t[m.start("num"):m.start("scale")] != \
                m.group("num"):
            scale_word = ""  # "5 m" is five metres, "5m" and "$5 m" five million
        scale = _SCALE.get(scale_word, 1)
        scaled = _canon(value * scale)
        plain = _canon(value)
        if m.group("ord"):
            keys = {f"ord:{plain}"} if claim else {f"ord:{plain}", f"any:{plain}"}
        elif m.group("dec"):
            keys = {f"dec:{plain}"}
        elif m.group("pct"):
            keys = {f"pct:{scaled}"} if claim else \
                {f"pct:{scaled}", f"any:{scaled}", f"any:{plain}"}
        elif cur:
            keys = {f"cur:{cur}:{scaled}", f"bare:{scaled}"} if claim else \
                {f"cur:{cur}:{scaled}", f"any:{scaled}", f"any:{plain}"}
        else:
            keys = {f"any:{scaled}"} if claim else {f"any:{scaled}", f"any:{plain}",
                                                    f"bare:{scaled}", f"bare:{plain}"}
            if claim and scale_word in ("m", "b", "k"):
                keys.add(f"any:{plain}")
        out.append(_Figure(m.group(0).strip(), frozenset(keys), m.span()))

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    for m in _NUMWORD.finditer(t):
        words = m.group("w")
        if not free(*m.span()):
            continue
        value = _word_value(words)
        if value is None:
            continue
        if claim and words.lower() in ("one", "hundred", "thousand", "million", "billion"):
            continue  # "one of", "hundreds", "a million": not a figure to hold a sentence to
        v = _canon(Decimal(value))
        if m.group("pct"):
            keys = {f"pct:{v}"} if claim else {f"pct:{v}", f"any:{v}"}
        else:
            keys = {f"any:{v}"} if claim else {f"any:{v}", f"bare:{v}"}
        taken.append(m.span())
        out.append(_Figure(m.group(0), frozenset(keys), m.span()))
    for m in _ORDWORD.finditer(t):
        parts = re.split(r"[\s-]+", m.group(0).lower())
        if claim and len(parts) == 1 and parts[0] in _ORD_LOOSE:
            continue
        value = sum(_TENS.get(p, 0) + _ORD.get(p, 0) + _ORD_LOOSE.get(p, 0) for p in parts)
        out.append(_Figure(m.group(0), frozenset({f"ord:{value}"}), m.span()))
    for m in _CODE.finditer(t):
        if not free(*m.span()):
            continue
        out.append(_Figure(m.group(0), frozenset({f"code:{m.group(0).lower()}"}), m.span()))
    return out


def _passage_keys(text: str) -> set[str]:
    keys: set[str] = set()
    for f in _figures(text, claim=False):
        keys |= f.keys
    return keys


# ----------------------------------------------------------------------------- checking

def _content_terms(texts: Sequence[str], query: bool) -> list[set[str]]:
    from . import lexical

    clean = [re.sub(r"(?<=\d),(?=\d{3}\b)", "", _fold(t)) for t in texts]
    return [set(x) for x in lexical.tokenize(clean, query=query)]


_CLAUSE = re.compile(r"(?:[,;:]|\s[-–—])\s+(?=(?:and|but|while|whereas|although|though|"
                     r"which|who|whose|so|yet|or|because|since|when|where|after|before|until|"
                     r"as|thus|then|including)\b)|;\s+")


def _clauses(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """Clause pieces of the sentence text[a:b] cut at ", and", ", which", "; " ...: the part
    before each cut and the part after it (from the cut's word on), each of 4 words or more. A
    generated sentence often says one clause of a long sentence."""
    out = []
    for m in _CLAUSE.finditer(text, a, b):
        head = (a, m.start())
        tail = (m.end(), b)
        for x, y in (head, tail):
            piece = text[x:y].rstrip(" .;:,")
            if len(piece.split()) >= 4:
                out.append((x, x + len(piece)))
    return out


def candidate_spans(passage: str, sentence_spans: Spans | None = None,
                    clauses: bool = True) -> list[tuple[int, int]]:
    """The spans a sentence is compared with (offsets into `passage`): each sentence of the
    passage, each pair of adjacent sentences, and the clause pieces of each sentence."""
    if sentence_spans is None:
        from .chunking import sentence_spans as split

        sentence_spans = split(passage)
    sents = [(int(a), int(b)) for a, b in sentence_spans if 0 <= a < b <= len(passage)]
    if not sents and passage.strip():
        lead = len(passage) - len(passage.lstrip())
        sents = [(lead, len(passage.rstrip()))]
    pairs = [(sents[i][0], sents[i + 1][1]) for i in range(len(sents) - 1)]
    pieces = [c for a, b in sents for c in _clauses(passage, a, b)] if clauses else []
    return list(dict.fromkeys(sents + pairs + pieces))


@dataclass(frozen=True)
class _Prepared:
    """What the check needs of a passage, computed once per passage (and remembered: the LLM
    reader verifies sentence by sentence against the same passages)."""

    text: str
    spans: tuple[tuple[int, int], ...]
    words: frozenset[str]  # every word, in the form names are matched in
    figure_keys: frozenset[str]
    span_keys: tuple[frozenset[str], ...]  # figures per span
    span_terms: tuple[frozenset[str], ...]  # content words per span


@lru_cache(maxsize=256)
def _prepare(passage: str, spans: tuple[tuple[int, int], ...]) -> _Prepared:
    terms = _content_terms([passage[a:b] for a, b in spans], query=False) if spans else []
    return _Prepared(passage, spans, frozenset(_text_word_keys(passage)),
                     frozenset(_passage_keys(passage)),
                     tuple(frozenset(_passage_keys(passage[a:b])) for a, b in spans),
                     tuple(frozenset(t) for t in terms))


def _quote(items: list[str]) -> str:
    q = [f'"{x}"' for x in dict.fromkeys(items)]
    return q[0] if len(q) == 1 else ", ".join(q[:-1]) + " and " + q[-1]


def _support(claim: str, claim_terms: set[str], claim_vec: np.ndarray, p: _Prepared,
             span_vecs: np.ndarray, settings: VerifySettings, label: str) -> Support:
    if not p.spans:
        return Support(False, f"{label} is empty", (0, 0), 0.0, 0.0)
    figures = _figures(claim, claim=True)
    reasons = []
    missing_fig = [f.text for f in figures if not (f.keys & p.figure_keys)]
    if missing_fig:
        kind = "figure" if len(missing_fig) == 1 else "figures"
        verb = "is" if len(missing_fig) == 1 else "are"
        reasons.append(f"the {kind} {_quote(missing_fig)} {verb} not in {label}")
    missing_names = [n.text for n in _names(claim, figures)
                     if not all(_name_part_in(x, p.words) for x in n.parts)]
    if missing_names:
        kind = "name" if len(missing_names) == 1 else "names"
        verb = "is" if len(missing_names) == 1 else "are"
        reasons.append(f"the {kind} {_quote(missing_names)} {verb} not in {label}")
    sims = span_vecs @ claim_vec if len(span_vecs) else np.zeros(0, np.float32)
    allowed = np.ones(len(p.spans), dtype=bool)
    if settings.figures_in_span and figures and not missing_fig:
        allowed = np.array([all(f.keys & keys for f in figures) for keys in p.span_keys])
        if not allowed.any():
            reasons.append(f"the figures {_quote([f.text for f in figures])} are not in one "
                           f"sentence of {label}")
            allowed = np.ones(len(p.spans), dtype=bool)
    masked = np.where(allowed, sims, -np.inf)
    best = int(np.argmax(masked))
    similarity = float(sims[best])
    overlap = (len(claim_terms & p.span_terms[best]) / len(claim_terms)) if claim_terms else 0.0
    if similarity < settings.min_similarity:
        reasons.append(f"{label} says nothing close (similarity {similarity:.2f})")
    if overlap < settings.min_overlap:
        reasons.append(f"the closest span of {label} has few of its words (overlap {overlap:.2f})")
    return Support(not reasons, "; ".join(reasons), p.spans[best], similarity, overlap)


# Words about the answer itself, not about the world: they carry no claim ("Here is the answer:",
# "According to the passage, ...") and are not looked for in the passage.
_META = ("answer answers question questions passage passages article articles source sources text "
         "texts document documents information summary summarise summarize following mention "
         "mentions mentioned state states stated note noted provided given context excerpt here "
         "according based regarding yes")


@lru_cache(maxsize=1)
def _meta_terms() -> frozenset[str]:
    return frozenset(_stem(w) for w in _META.split())


def _claim_terms(claims: Sequence[str]) -> list[set[str]]:
    meta = _meta_terms()
    return [t - meta for t in _content_terms(claims, query=True)]


def check(claim: str, passage: str, encode: Encode, sentence_spans: Spans | None = None,
          settings: VerifySettings = DEFAULT_VERIFY_SETTINGS,
          label: str = "the passage") -> Support:
    """Whether `passage` supports the sentence `claim` (no markers). `sentence_spans` are the
    passage's sentence offsets (into `passage`), computed when not given. One encode call."""
    spans = candidate_spans(passage, sentence_spans)
    p = _prepare(passage, tuple(spans))
    texts = [claim] + [passage[a:b] for a, b in spans]
    vecs = np.asarray(encode(texts), dtype=np.float32)
    return _support(claim, _claim_terms([claim])[0], vecs[0], p, vecs[1:], settings, label)


def _has_content(claim: str, terms: set[str]) -> bool:
    return bool(terms) or bool(_figures(claim, claim=True))


def verify(answer: str, passages: Sequence[str], encode: Encode,
           sentence_spans: Sequence[Spans | None] | None = None,
           settings: VerifySettings = DEFAULT_VERIFY_SETTINGS) -> Verification:
    """Check every sentence of a generated answer against the passages it cites ([n] is
    passages[n-1]). `sentence_spans[i]`, when given, are passage i's sentence offsets (into
    passages[i]). All sentences and passage spans are encoded in one call."""
    claims = split_claims(answer)
    if is_declined(answer):
        dropped = [(c.text, "the model declined (NOT_IN_ARTICLES)") for c in claims
                   if not _DECLINE.search(c.text)]
        return Verification([], dropped, True, [])
    n_pass = len(passages)
    dropped: list[tuple[str, str]] = []
    removed: list[tuple[str, int, str]] = []
    terms = _claim_terms([c.text for c in claims]) if claims else []
    jobs = []
    for claim, t in zip(claims, terms):
        if not claim.cited:
            dropped.append((claim.text, "no citation"))
            continue
        if not _has_content(claim.text, t):
            dropped.append((claim.text, "no claim to check"))
            continue
        valid = [n for n in claim.cited if 1 <= n <= n_pass]
        bad = [n for n in claim.cited if not 1 <= n <= n_pass]
        out_of_range = [(n, f"cites [{n}] but only {n_pass} passage{'s' if n_pass != 1 else ''} "
                            f"{'were' if n_pass != 1 else 'was'} given") for n in bad]
        if not valid:
            dropped.append((claim.text, "; ".join(w for _, w in out_of_range)))
            continue
        jobs.append((claim, t, valid, out_of_range))
    needed = sorted({n for _, _, valid, _ in jobs for n in valid})
    prepared: dict[int, _Prepared] = {}
    if needed:
        for n in needed:
            given = sentence_spans[n - 1] if sentence_spans is not None and \
                n - 1 < len(sentence_spans) else None
            text = passages[n - 1]
            prepared[n] = _prepare(text, tuple(candidate_spans(text, given)))
    texts = list(dict.fromkeys([c.text for c, _, _, _ in jobs] + [
        prepared[n].text[a:b] for n in needed for a, b in prepared[n].spans]))
    row = {t: i for i, t in enumerate(texts)}
    vecs = np.asarray(encode(texts), dtype=np.float32) if texts else np.zeros((0, 1), np.float32)
    span_vecs = {n: vecs[[row[prepared[n].text[a:b]] for a, b in prepared[n].spans]]
                 if prepared[n].spans else np.zeros((0, vecs.shape[1]), np.float32)
                 for n in needed}
    kept: list[tuple[Claim, dict[int, Support]]] = []
    for claim, t, valid, out_of_range in jobs:
        results = {n: _support(claim.text, t, vecs[row[claim.text]], prepared[n], span_vecs[n],
                               settings, f"passage [{n}]") for n in valid}
        ok = {n: s for n, s in results.items() if s.ok}
        failed = [s.reason for n, s in results.items() if not s.ok] + [w for _, w in out_of_range]
        if ok:
            kept.append((claim, ok))
            removed.extend((claim.text, n, s.reason) for n, s in results.items() if not s.ok)
            removed.extend((claim.text, n, w) for n, w in out_of_range)
        else:
            dropped.append((claim.text, "; ".join(failed)))
    return Verification(kept, dropped, False, removed)
