"""Words: tokenising, the stemmer, stop words and the embedding prefix, one definition each for
the index, retrieval, answering and the verifier.

The tokeniser is bm25s's (lowercase, runs of two or more word characters, stop words dropped,
Snowball-stemmed) written out here, so that code outside the index does not import bm25s; a test
(tests/test_text.py) holds it equal to `bm25s.tokenize` and the lists below equal to bm25s's."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from .records import SECTION_SEP

TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s's (and scikit-learn's) token pattern

# bm25s.stopwords.STOPWORDS_EN: what documents drop (the short Lucene list).
STOPWORDS_EN = frozenset("""
a an and are as at be but by for if in into is it no not of on or such that the their then there
these they this to was will with
""".split())
# bm25s.stopwords.STOPWORDS_EN_PLUS (NLTK's English list).
STOPWORDS_EN_PLUS = frozenset("""
a about above after again against ain all am an and any are aren aren't as at be because been
before being below between both but by can couldn couldn't d did didn didn't do does doesn
doesn't doing don don't down during each few for from further had hadn hadn't has hasn hasn't
have haven haven't having he her here hers herself him himself his how i if in into is isn isn't
it it's its itself just ll m ma me mightn mightn't more most mustn mustn't my myself needn
needn't no nor not now o of off on once only or other our ours ourselves out over own re s same
shan shan't she she's should should've shouldn shouldn't so some such t than that that'll the
their theirs them themselves then there these they this those through to too under until up ve
very was wasn wasn't we were weren weren't what when where which while who whom why will with
won won't wouldn wouldn't y you you'd you'll you're you've your yours yourself yourselves
""".split())
# Questions drop the longer list and a few reporting verbs: these words say what is asked, not
# what it is about ("what", "did", "who", "tell", ...).
QUERY_STOPWORDS = STOPWORDS_EN_PLUS | {"tell", "say", "said", "says", "according"}


@lru_cache(maxsize=1)
def stemmer():
    """The English Snowball stemmer (PyStemmer), made once."""
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str], query: bool = False) -> list[list[str]]:
    """Stemmed terms. Documents drop the short Lucene stop list; questions drop a longer one
    ("what", "did", "who", ...), whose words say what is asked, not what it is about."""
    stop = QUERY_STOPWORDS if query else STOPWORDS_EN
    split = [[t for t in TOKEN.findall(text.lower()) if t not in stop] for text in texts]
    unique = list(dict.fromkeys(t for doc in split for t in doc))
    stems = dict(zip(unique, stemmer().stemWords(unique)))
    return [[stems[t] for t in doc] for doc in split]


def embed_prefix(title: str, heading_path: tuple[str, ...]) -> str:
    """What is put before a chunk's text for embedding and lexical indexing (never shown)."""
    parts = [title, *heading_path]
    return SECTION_SEP.join(p for p in parts if p) + "\n"
