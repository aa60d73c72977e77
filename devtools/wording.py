"""The wording promise in one place: no text the assistant shows about an answer (a tier label, an
abstention, a notice, an LLM fallback or decline) claims anything about what the articles contain.
Retrieval and the verifier can miss a paraphrase, so all that is ever known is that no passage
*clearly* answers. Used by tests/test_promise_wording.py and the app tests."""

from __future__ import annotations

import re

# Claims about the articles' content, and their kin. A text matching any of these breaks the promise.
CLAIMS = re.compile(r"""\b(?:
  (?:is|are|was|were|be)\s+not\s+(?:in|within|covered|mentioned|discussed|addressed|included|
                                     present|found|available)
| (?:isn't|aren't|wasn't|weren't)\s+(?:in|covered|mentioned|discussed|included)
| do(?:es)?\s*(?:not|n't)\s+(?:cover|contain|mention|include|discuss|address|say|hold|have|talk)
| (?:never|nowhere)\s+(?:mention|cover|discuss|say)s?
| no\s+(?:information|mention|data|details?|record|coverage|facts?)
| nothing\s+(?:about|on|regarding)
| nothing\s+in\s+the\s+(?:articles?|collection|corpus)
| lacks?|lacking
| absent|absence
| missing\s+(?:from|in)
| outside\s+(?:the\s+|their\s+)?(?:scope|articles|collection|corpus)
| not\s+in\s+(?:the\s+|any\s+|your\s+|these\s+)?(?:articles?|collection|corpus|documents?|sources?)
| (?:articles?|collection|corpus|documents?)\s+(?:has|have|contains?|holds?|gives?)\s+no
| no\s+answer\s+(?:in|within)\s+(?:the\s+|any\s+)?(?:articles?|collection|corpus|documents?)
| (?:articles?|collection|corpus)\s+(?:cannot|can't|can\s+not)\s+answer
)\b""", re.I | re.X)


def claims_in(text: str) -> list[str]:
    """The phrases of `text` that claim something about the articles' content."""
    return [m.group(0) for m in CLAIMS.finditer(text)]
