"""What the user sees when the LLM reader does not give a verified answer (assistant/llm.py):

- the model declined (it read the passages and wrote NOT_IN_ARTICLES): the "no clear answer"
  tier, saying the model found no answer in the N closest passages, with those passages listed.
  A capable reader's "no" is worth more than the extractive confidence, so the extractive
  answer is not shown;
- the model could not be used (unreachable, HTTP error, timeout, malformed or cut stream): the
  extractive answer, with the one-line reason;
- the model answered but no sentence survived verification: the extractive answer in the tier
  its own confidence earns, saying the model's answer could not be checked.

Wording rule: never claim the articles lack the answer (nobody here can know that); say only
what the model found in the passages it was given.
"""

from __future__ import annotations

import dataclasses

from ..records import Answer


def declined_text(n: int) -> str:
    what = "passage" if n == 1 else f"{n} closest passages"
    return (f"The language model found no answer in the {what} it read. The closest passages "
            "are listed below: the answer may still be in them or elsewhere in the articles.")


def declined(extractive: Answer, n_read: int, info: dict, timings: dict) -> Answer:
    """The abstain tier for a declined answer: no citations, the closest passages listed."""
    return dataclasses.replace(extractive, text=declined_text(n_read), citations=(),
                               abstained=True, tier="abstain", mode="llm", llm=info,
                               timings_ms=timings)


UNCHECKED = "The language model's answer could not be checked"


def fallback(extractive: Answer, reason: str, unchecked: bool, info: dict,
             timings: dict) -> Answer:
    """The extractive answer (in its own tier) with one line saying why it is shown."""
    if unchecked:
        notice = f"{UNCHECKED} ({reason}); showing the extractive answer."
    else:
        notice = f"Showing the extractive answer: {reason}."
    notice = (extractive.notice + " " if extractive.notice else "") + notice
    return dataclasses.replace(extractive, notice=notice, llm=info, timings_ms=timings)
