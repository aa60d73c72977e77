"""Polarity: whether a generated sentence says the opposite of the span it is checked against.
A paraphrase close in meaning and words can still reverse the fact ("rose" for "fell", "is
enough to" for "is not enough to"): embeddings and word overlap barely see it, so it is compared
here, word by word:

- negation: "not", "no", "never", "n't", "without", "neither/nor", "did little to" ... in one
  and not the other (by parity: "not unlike" counts twice);
- opposites of direction, order, verdict, outcome, sentiment and size (rise/fall, higher/lower,
  before/after, approve/reject, win/lose, optimistic/pessimistic, easier/harder ...): the
  sentence uses one side of a pair and the span only the other.

A negation turns a side over ("did not rise" = "fell"), so a sentence is reversed when, over
all the pairs it and the span both take a side on, and its negation parity, the two disagree.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .words import _fold, _stem

# Each line: words of one side | words of the other side.
_PAIRS = """
rise rises rose risen rising increase increased increases increasing grow grew grown growing growth
  climb climbed jump jumped surge surged soar soared gain gained gains boost boosted expand expanded
  | fall falls fell fallen falling decrease decreased decreases decreasing decline declined declines
  declining drop dropped drops shrink shrank shrunk slump slumped plunge plunged reduce reduced
  cut cuts contract contracted
higher highest high raise raised raises | lower lowest low lowered
larger largest bigger biggest greater greatest | smaller smallest lesser least
more | fewer less
before preceded precede precedes | after followed follow follows
earlier earliest | later latest
first | last final
appreciation appreciated appreciate | depreciation depreciated depreciate
generous | limited
full | partial
approve approved approves approval accept accepted accepts backed endorse endorsed support
  supported supports allow allowed allows permit permitted legal legalised legalized
  favour favor favoured favored | protest protested reject rejected rejects rejection refuse
  refused refuses oppose opposed opposes block blocked
  veto vetoed deny denied ban banned bans forbid forbade forbidden prohibit prohibited illegal
win wins won winning victory victorious beat | lose loses lost losing defeat defeated loss
optimistic optimism positive upbeat confident hopeful | pessimistic pessimism negative gloomy
  downbeat doubtful
better best improve improved improving improvement strong stronger strongest strengthen
  | worse worst worsen worsened deteriorate deteriorated weak weaker weakest weaken weakened
success successful succeed succeeded | failure failed fail fails unsuccessful
easy easier easiest simple simpler | hard harder hardest difficult
possible likely able | impossible unlikely unable
majority most | minority
above | below
up | down
profit profits profitable | losses unprofitable
include included includes including | exclude excluded excludes excluding
open opened | closed close shut
ally allies allied friend friends friendly | opponent opponents enemy enemies rival rivals
  adversary hostile foe
scale-up expand expanded | scale-back
"""

_NEGATION = re.compile(
    r"\b(?:not|no|never|none|nothing|nobody|neither|nor|without|cannot|hardly|barely|"
    r"scarcely|no longer)\b|n't\b|(?<!\ba )(?<!\bvery )\blittle\b(?=\s+[a-z])", re.I)


@lru_cache(maxsize=1)
def _sides() -> dict[str, tuple[int, int]]:
    """stem -> (pair index, side 0 or 1)."""
    out: dict[str, tuple[int, int]] = {}
    text = re.sub(r"\n\s+", " ", _PAIRS.strip())
    for i, line in enumerate(text.splitlines()):
        left, right = line.split("|")
        for side, words in enumerate((left, right)):
            for w in words.split():
                out.setdefault(_stem(w), (i, side))
    return out


def _words(text: str) -> list[str]:
    return [_stem(w) for w in re.findall(r"[a-z]+", _fold(text).lower())]


def negations(text: str) -> int:
    return len(_NEGATION.findall(_fold(text).replace("’", "'")))


def stance(text: str) -> dict[int, set[int]]:
    """Per pair, the sides the text takes."""
    sides = _sides()
    out: dict[int, set[int]] = {}
    for w in _words(text):
        hit = sides.get(w)
        if hit:
            out.setdefault(hit[0], set()).add(hit[1])
    return out


_CLAUSE_CUT = re.compile(r"[,;:()\[\]\u2013\u2014]|\s-\s|\b(?:but|while|whereas|although|though|"
                         r"because|since|so|yet|which|who|instead)\b", re.I)


def _clauses(text: str) -> list[str]:
    return [c for c in _CLAUSE_CUT.split(_fold(text)) if re.search(r"[A-Za-z]", c)]


def _content(text: str) -> frozenset[str]:
    from .words import _function_words

    stop = _function_words()
    sides = _sides()
    stems = (_stem(w) for w in re.findall(r"[a-z]+", text.lower()) if w not in stop and len(w) > 2)
    return frozenset(w for w in stems if w not in sides)  # aligned by what they talk about


# Words that carry a negation without "not": a claim using them may drop the passage's "not"
# ("lack" for "do not have", "only limited" for "will not be enough").
_IMPLICIT = frozenset("lack lacks lacked lacking fail fails failed unable only limited absence "
                      "absent avoid avoided prevent prevented insufficient few rarely instead "
                      "stop stopped refuse refused short".split())


def _compare(c: str, s: str, negation: bool = True) -> str:
    flip = (negations(c) - negations(s)) % 2 == 1
    if flip and negations(c) < negations(s) and (
            not negation or _IMPLICIT & set(re.findall(r"[a-z]+", c.lower()))):
        flip = False
    cs, ss = stance(c), stance(s)
    conflicts = [pair for pair, sides in cs.items()
                 if len(sides) == 1 and len(ss.get(pair, ())) == 1 and sides != ss[pair]]
    if conflicts and not flip:
        return "it says the opposite of the passage"
    if flip and not conflicts:
        return ("it negates what the passage says" if negations(c) > negations(s)
                else "it leaves out the passage's negation")
    return ""


def reversed_of(claim: str, span: str, negation: bool = True) -> str:
    """"" when the claim keeps the span's polarity; else a short reason. Each clause of the
    claim is compared with the clause of the span that shares most of its content words (at
    least two): a negation in an unrelated clause of the span says nothing about it."""
    span_clauses = [(x, _content(x)) for x in _clauses(span)]
    for c in _clauses(claim):
        words = _content(c)
        polar = bool(stance(c) or negations(c))
        best, shared = max(((x, len(words & w)) for x, w in span_clauses),
                           key=lambda t: t[1], default=("", 0))
        if words and shared >= min(2, len(words)) and (polar or negations(best)):
            why = _compare(c, best, negation)
        elif polar:  # no clause of the span to align with: the span as a whole
            why = _compare(c, span, negation=False)
        else:
            continue
        if why:
            return why
    return ""
