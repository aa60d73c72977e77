"""Figures as the verifier compares them: numbers, years, amounts, percentages, ordinals and codes,
normalised so "$5m" = "5,000,000 dollars" and "three" = "3"."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .words import _fold

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
    r"\b(?P<w>(?:(?:{})(?:[\s-](?:{}))?|{})(?:[\s-](?:hundred|thousand|million|billion)){{0,4}})\b"
    r"(?:\s?(?P<pct>%|per\s?cent\b|percent\b))?".format(
        "|".join(_TENS), "two|three|four|five|six|seven|eight|nine|one",
       "|".join(list(_UNITS) + ["one", "hundred", "thousand", "million", "billion"])),
    re.I)
_ORDWORD = re.compile(r"\b(?:(?:{})[\s-])?(?:{})\b".format("|".join(_TENS), "|".join(
    list(_ORD) + list(_ORD_LOOSE))), re.I)
# Letters then a digit ("A380", "B2B") or digits then two letters or more ("3GPP"), from the
# start of a word only. (The former lookaheads "(?=[\w-]*...)" scanned to the end of every
# run of dashes from each of its positions: quadratic, 3.4 s on 20,000 dashes.)
_CODE = re.compile(r"(?<![\w])[A-Za-z]+\d\w*|(?<![\w])\d+[A-Za-z]{2,}\w*", re.U)


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
        bisect.insort(taken, m.span())
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
        elif m.group("dec") and (plain.endswith("0") or m.group("dec") == "s"):
            keys = {f"dec:{plain}"}  # "the 1990s", "the 80's"; "2004's" is a possessive
        elif m.group("dec"):
            keys = {f"any:{plain}"} if claim else {f"any:{plain}", f"bare:{plain}"}
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

    def free(a: int, b: int) -> bool:  # taken spans do not overlap each other: bisect
        k = bisect.bisect_left(taken, (a, a))
        return ((k == 0 or taken[k - 1][1] <= a) and (k == len(taken) or taken[k][0] >= b))

    for m in _NUMWORD.finditer(t):
        words = m.group("w")
        if not free(*m.span()):
            continue
        number = _word_value(words)
        if number is None:
            continue
        if claim and words.lower() in ("one", "hundred", "thousand", "million", "billion"):
            continue  # "one of", "hundreds", "a million": not a figure to hold a sentence to
        if claim and words.lower() == "two" and re.search(r"\b(?:the|these|those)\s+$",
                                                          t[max(0, m.start() - 8):m.start()],
                                                          re.I):
            continue  # "the two countries": "both", not a count to hold a sentence to
        v = _canon(Decimal(number))
        if m.group("pct"):
            keys = {f"pct:{v}"} if claim else {f"pct:{v}", f"any:{v}"}
        else:
            keys = {f"any:{v}"} if claim else {f"any:{v}", f"bare:{v}"}
        bisect.insort(taken, m.span())
        out.append(_Figure(m.group(0), frozenset(keys), m.span()))
    for m in _ORDWORD.finditer(t):
        parts = re.split(r"[\s-]+", m.group(0).lower())
        if claim and len(parts) == 1 and parts[0] in _ORD_LOOSE:
            continue
        ordinal = sum(_TENS.get(p, 0) + _ORD.get(p, 0) + _ORD_LOOSE.get(p, 0) for p in parts)
        out.append(_Figure(m.group(0), frozenset({f"ord:{ordinal}"}), m.span()))
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


