"""The optional model check (`ASSISTANT_LLM_VERIFY=model`): after the deterministic gates (figures,
names, citation range), one more request to the same endpoint asks, for all remaining sentences
at once, whether each is supported by the passage(s) it cites. Pure functions: the request is
made by assistant/llm_judge.py.

The reply must be strict JSON, {"verdicts": [{"sentence": 1, "supported": true}, ...]}: a
sentence counts as supported only when its entry says `true` (the JSON boolean). A reply that
does not parse, an entry that is missing, repeated or of another type: unsupported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

CHECK_PROMPT = (
    "You check an answer written from numbered passages. For each numbered sentence, decide "
    "whether the passage(s) it cites state what the sentence says. A faithful paraphrase, or "
    "a sentence that joins facts from the passages it cites, is supported. It is NOT supported "
    "when it contains a figure, date or name the cited passages do not give, a claim they do "
    "not make, or says the opposite of what they say (rose/fell, approved/rejected, not ...), "
    "or when the fact is only in a passage it does not cite.\n"
    "Reply with JSON only, no other text, in exactly this form:\n"
    '{"verdicts": [{"sentence": 1, "supported": true}, {"sentence": 2, "supported": false}]}\n'
    "with one entry for every sentence."
)


def check_messages(question: str, passages: Sequence[str],
                   sentences: Sequence[tuple[str, Sequence[int]]]) -> list[dict]:
    """The request: the question, the cited passages (numbered as the answer cites them) and the
    sentences with their citations."""
    cited = sorted({n for _, ns in sentences for n in ns})
    blocks = [f"[{n}]\n{passages[n - 1].strip()}" for n in cited if 1 <= n <= len(passages)]
    lines = [f"{i}. {text} (cites {''.join(f'[{n}]' for n in ns)})"
             for i, (text, ns) in enumerate(sentences, start=1)]
    user = ("Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}\n\n"
            "Sentences to check:\n" + "\n".join(lines))
    return [{"role": "system", "content": CHECK_PROMPT}, {"role": "user", "content": user}]


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S | re.I)


def parse_verdicts(reply: str, n: int) -> tuple[list[bool], str]:
    """Per sentence 1..n, whether the reply says it is supported; and "" or why the reply could
    not be read (then every sentence is unsupported)."""
    none = [False] * n
    text = reply or ""
    fenced = _FENCE.match(text)
    if fenced:  # a code fence around the JSON is tolerated; any other text is not
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return none, "the check's reply is not JSON"
    items = data.get("verdicts") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return none, "the check's reply has no list of verdicts"
    out: list[bool | None] = [None] * n
    for item in items:
        if not isinstance(item, dict):
            continue
        i, ok = item.get("sentence"), item.get("supported")
        if type(i) is not int or not 1 <= i <= n:
            continue
        if out[i - 1] is not None:  # said twice: not a clear verdict
            out[i - 1] = False
            continue
        out[i - 1] = ok is True
    return [bool(x) for x in out], ""
