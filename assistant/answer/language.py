"""Is a question (or an article) clearly not English?

The embedding model and the stemmer are English: a question in another language gets passages
more or less at random. The reply still searches, but says so in one line (`NOTICE`).

Detection: a script check first (letters mostly outside the Latin alphabet: Cyrillic, Greek,
Arabic, Hebrew, CJK, ... are not English), then lingua-language-detector restricted to English
and the six Latin-script languages most often met beside it (French, German, Spanish, Italian,
Portuguese, Dutch): its models load lazily, only for these, in its high-accuracy mode (its
low-accuracy mode raised 1% false alarms on the English question sets; this one none, see
benchmarks/bench_language.py). A question counts as non-English only when it has at least
MIN_WORDS words and English gets less than ENGLISH_BELOW of the detector's confidence: a short
English question full of foreign names ("Where was Friedrich Ratzel born?") must not be told it
is foreign. A question with two plainly English function words ("the", "what", "how", ...) is
English without asking the detector, whose models take seconds and 150 MB to load: most
questions never load them.
"""

from __future__ import annotations

import json
import os
import threading
import unicodedata
from pathlib import Path

NOTICE = ("This question does not look like English. The assistant reads English articles with "
          "an English model, so answers to questions in other languages are unreliable; asking "
          "in English works best.")
MIN_WORDS = 3
ENGLISH_BELOW = 0.1  # English's share of the detector's confidence under which it is foreign
NON_LATIN_SHARE = 0.5  # letters outside the Latin script above which a text is not English
ARTICLE_CHARS = 3000  # an article is judged on its first characters

# Words that are English and not words of the six other languages; two of them in a question
# settle it without the detector.
ENGLISH_WORDS = frozenset(
    ["the", "what", "who", "whom", "whose", "how", "which", "when", "where", "why", "did",
     "does", "do", "and", "many", "much", "about", "from", "that", "this", "were", "have", "has",
     "their", "there", "they", "been", "would", "could", "should", "than", "into", "after",
     "before"])
_PUNCT = "?!.,;:'\"()[]¿¡«»"
_LANGUAGES = ("ENGLISH", "FRENCH", "GERMAN", "SPANISH", "ITALIAN", "PORTUGUESE", "DUTCH")
_detector = None
_lock = threading.Lock()


def _get_detector():
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                from lingua import Language, LanguageDetectorBuilder

                _detector = LanguageDetectorBuilder.from_languages(
                    *(getattr(Language, name) for name in _LANGUAGES)).build()
    return _detector


def _non_latin_script(text: str) -> str | None:
    """The main non-Latin script of a text whose letters are mostly outside the Latin alphabet
    (e.g. "CYRILLIC", "CJK"), else None."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return None
    scripts: dict[str, int] = {}
    for c in letters:
        name = unicodedata.name(c, "")
        script = name.split(" ")[0] if name else "OTHER"
        if script != "LATIN":
            scripts[script] = scripts.get(script, 0) + 1
    other = sum(scripts.values())
    if other / len(letters) <= NON_LATIN_SHARE:
        return None
    return max(scripts, key=scripts.__getitem__)


def detect(text: str) -> str | None:
    """The language (lower case, e.g. "french", or a script such as "cyrillic") of a text that is
    clearly not English; None when it is English or too short to tell."""
    text = " ".join(str(text or "").split())
    script = _non_latin_script(text)
    if script is not None:
        return script.lower()
    words = text.split()
    if len(words) < MIN_WORDS:
        return None
    if len({w.strip(_PUNCT).lower() for w in words} & ENGLISH_WORDS) >= 2:
        return None  # plainly English: the detector's models (150 MB, seconds to load) not needed
    try:
        values = _get_detector().compute_language_confidence_values(text)
    except ImportError:  # the detector is a core dependency; without it, no notice
        return None
    if not values:
        return None
    english = next((v.value for v in values if v.language.name == "ENGLISH"), 0.0)
    top = values[0]
    if english >= ENGLISH_BELOW or top.language.name == "ENGLISH":
        return None
    return top.language.name.lower()


def question_notice(question: str) -> str:
    """NOTICE for a question that is clearly not English, else ""."""
    return NOTICE if detect(question) else ""


def add_notice(answer, question: str):
    """The answer with the language notice added to its notice line (a new Answer), or the
    same answer when the question is English."""
    import dataclasses

    line = question_notice(question)
    if not line or line in (answer.notice or ""):
        return answer
    notice = f"{answer.notice} {line}".strip() if answer.notice else line
    return dataclasses.replace(answer, notice=notice)


def non_english_articles(build, cache: Path | None = None) -> list[dict]:
    """Articles of a build whose text is mostly not English: [{"source", "title", "language"}],
    judged on each article's first ARTICLE_CHARS characters. Article ids come from their
    content, so the verdicts are kept in `cache` (a JSON file) and only new articles are read."""
    known: dict = {}
    if cache is not None:
        try:
            known = json.loads(Path(cache).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            known = {}
        if not isinstance(known, dict):
            known = {}
    out, verdicts = [], {}
    for info in build.articles.values():
        article_id = info["id"]
        if article_id in known:
            language = known[article_id]
        else:
            try:
                _, sections = build.article(article_id)
            except KeyError:
                continue
            text, size = [], 0
            for section in sections:
                text.append(section.text)
                size += len(section.text)
                if size >= ARTICLE_CHARS:
                    break
            language = detect(" ".join(text)[:ARTICLE_CHARS]) or ""
        verdicts[article_id] = language
        if language:
            out.append({"source": info.get("source"), "title": info.get("title"),
                        "language": language})
    if cache is not None and verdicts != known:
        try:
            tmp = Path(cache).with_suffix(".tmp")
            tmp.write_text(json.dumps(verdicts), encoding="utf-8")
            os.replace(tmp, cache)
        except OSError:
            pass  # a read-only index folder: judged again next time
    return sorted(out, key=lambda a: str(a["source"]))
