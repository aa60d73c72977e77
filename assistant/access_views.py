"""The access rule applied when something already answered is read again (the chat's earlier
answers, the Markdown export, the feedback review): what a reader may not read now is withheld,
even if they could when it was answered. Rules change without a rebuild, so this is checked at
every read, not once."""

from __future__ import annotations

import dataclasses

from .access import Scope
from .records import Answer

WITHHELD = "This answer drew on a collection you may not read; it is withheld."


def readable_answer(answer: Answer, scope: Scope | None) -> Answer:
    """`answer` as the reader may see it now: unchanged when everything it cites or lists is in
    their scope. Passages they may not read are dropped from it; when a citation is among them
    the text (built from it) is withheld too, so a withheld citation shows as missing, never
    as its words."""
    if scope is None or scope.all:
        return answer
    passages = tuple(p for p in answer.passages if scope.permits_source(p.source))
    if all(scope.permits_source(c.source) for c in answer.citations):
        if len(passages) == len(answer.passages):
            return answer
        return dataclasses.replace(answer, passages=passages)
    return dataclasses.replace(answer, text=WITHHELD, abstained=True, tier="abstain",
                               notice=WITHHELD, citations=(), passages=passages, considered=())
