"""Words as the verifier compares them: folded to ASCII, stemmed, and the names (capitalised
words) a sentence states, which its passage must contain."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .figures import _Figure

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
    from ...text import stemmer

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
occasionally beyond amid amidst alongside besides unlike toward towards across behind beneath
""".split())
# Ordinary adjectives that often open a sentence ("Numerous Huguenots fled").
_COMMON_OPENERS = set("""
numerous various multiple little major minor key main large small big new old modern ancient
early late recent former latter certain different similar same whole entire
president king queen prime minister chancellor senator governor general professor doctor sir
lord lady pope emperor empress chief director secretary judge justice mayor bishop archbishop
captain commander chairman chairwoman chair coach manager striker midfielder defender
""".split())
# Adverb endings; names that end in -ly mostly do not end like these ("Italy", "Beverly", "Kelly").
_ADVERB_ENDINGS = ("ally", "ously", "ively", "ately", "edly", "ingly", "ently", "antly", "ibly",
                   "ably", "fully", "lessly", "ctly", "ghly", "stly", "rtly", "arly", "etly",
                   "ntly", "tly", "mply", "ily", "dly", "rly", "gly", "sly")
_ADJECTIVE_ENDINGS = ("ent", "ant", "ous", "ive", "ful", "less", "able", "ible", "ical", "ial",
                      "ary", "ern", "ese")
_PREPS = {"in", "on", "at", "by", "from", "as", "with", "to", "for", "into", "during", "after",
          "before", "under", "over", "through", "the", "a", "an", "its", "their", "his", "her"}


@lru_cache(maxsize=1)
def _function_words() -> frozenset[str]:
    from ...text import STOPWORDS_EN_PLUS

    return frozenset(_LEADING | {w for w in STOPWORDS_EN_PLUS if "'" not in w})


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
    # A descriptive opener before a lowercase word ("Prominent refugee ...", "Sports
    # psychologist ..."): adjective endings, or a plural common noun ("Sports", "Officials").
    if len(word) >= 6 and word.endswith(_ADJECTIVE_ENDINGS) and nxt_word[:1].islower():
        return True
    return bool(len(word) >= 5 and word.endswith(("ed", "ing")) and nxt_word in _PREPS)


def _in_spans(i: int, spans: list[tuple[int, int]], starts: list[int]) -> bool:
    """Whether i is inside one of the sorted `spans` (the figures, which may overlap)."""
    import bisect

    k = bisect.bisect_right(starts, i)
    return any(a <= i < b for a, b in spans[max(0, k - 8):k])


def _names(claim: str, figures: Sequence[_Figure] = ()) -> list[_Name]:
    """Capitalised words that must occur in the passage. The first word of the sentence (or of a
    quotation or a clause after a colon) is skipped when it is a function word; words that are
    part of a figure ("Three", "US$5") are checked as figures."""
    text = _fold(claim)
    inside = sorted(f.span for f in figures)
    starts = [a for a, _ in inside]
    words = [m for m in re.finditer(r"(?:[A-Za-z]\.){2,}|" + _WORD.pattern, text)]
    out: list[_Name] = []
    for m in words:
        w = m.group(0)
        if not w[0].isupper() or _in_spans(m.start(), inside, starts):
            continue
        j = m.start()  # the last non-space character before the word (no copy of the text)
        while j > 0 and text[j - 1].isspace():
            j -= 1
        lead = j == 0 or text[j - 1] in ".!?:;\"'([{-"
        core = w.rstrip(".").lower()
        core = re.sub(r"'s$|'$", "", core)
        if w == "I" or (lead and _common_opener(core, text[m.end():m.end() + 80])):
            continue
        parts = tuple(_word_parts(w))
        if parts:
            out.append(_Name(w.rstrip(".") if not _ACRONYM.fullmatch(w) else w, parts))
    return out




_CAP_RUN = re.compile(r"[A-Z][\w'’-]*(?:\s+(?:(?:of|the|and|for|on|de)\s+)*[A-Z][\w'’-]*)+")


def _written_out(name: _Name, text: str) -> bool:
    """Whether `text` spells out an all-capitals short name: consecutive capitalised words
    whose initials hold it ("European Union" for "EU", "Bureau of Investigation" for "BI")."""
    letters = name.text.replace(".", "")
    if not (2 <= len(letters) <= 6 and letters.isalpha() and letters.isupper()):
        return False
    return any(letters in "".join(w[0] for w in re.findall(r"[A-Z][\w'’-]*", m.group(0)))
               for m in _CAP_RUN.finditer(text))


def _name_in(name: _Name, words: frozenset[str] | set[str], text: str) -> bool:
    """Whether a name of the sentence is in a passage (its words, or spelled out in its text)."""
    return all(_name_part_in(x, words) for x in name.parts) or _written_out(name, text)


def _acronyms_ok(missing: list[_Name], words: frozenset[str] | set[str]) -> list[_Name]:
    """`missing` without runs of two or more consecutive name words whose initials the passage
    writes as one word ("United States" for "US" or "U.S.")."""
    out, i = [], 0
    while i < len(missing):
        for j in range(len(missing), i + 1, -1):
            initials = "".join(n.parts[0][0] for n in missing[i:j] if n.parts)
            if len(initials) == j - i and _stem(initials) in words:
                i = j
                break
        else:
            out.append(missing[i])
            i += 1
    return out
