"""Section -> chunks on sentence boundaries, within the model's token limit, one-sentence
overlap."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from .embedding import MAX_SEQ as MODEL_MAX_TOKENS  # the model's limit, special tokens included
from .records import SECTION_SEP, Article, Chunk, content_id
from .text import embed_prefix

_MAX_PREFIX_TOKENS = 48

# A callable that returns the number of word pieces of each text (no special tokens).
TokenCounter = Callable[[Sequence[str]], list[int]]


def _ascii_sentence_offsets(para: str) -> list[tuple[int, int]]:
    """blingfire's sentence offsets for an ASCII paragraph, where bytes and characters coincide.
    Same C call as `blingfire.text_to_sentences_and_offsets`, without its per-byte Python loop
    that maps UTF-8 offsets back to characters (about 3 s of a BBC build)."""
    from ctypes import byref, c_char_p, c_int, c_int32, create_string_buffer

    import blingfire

    data = para.encode("ascii")
    out = create_string_buffer(len(data) * 2)
    cap = len(out)
    starts, ends = (c_int32 * cap)(), (c_int32 * cap)()
    n_out = blingfire.blingfire.TextToSentencesWithOffsets(
        c_char_p(data), c_int(len(data)), byref(out), byref(starts), byref(ends), c_int(cap))
    if n_out == -1 or n_out > cap:
        return []
    count = out.value.count(b"\n") + 1
    return [(starts[i], min(ends[i] + 1, len(para))) for i in range(count)]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans of `text`: paragraphs (line breaks) first, then blingfire inside each."""
    import blingfire

    spans: list[tuple[int, int]] = []
    for m in re.finditer(r"[^\n]+", text):
        para = m.group(0)
        if not para.strip():
            continue
        base = m.start()
        try:
            if para.isascii():
                offsets = _ascii_sentence_offsets(para)
            else:
                _, offsets = blingfire.text_to_sentences_and_offsets(para)
        except Exception:  # noqa: BLE001 - never lose text to the splitter
            offsets = []
        if not offsets:
            offsets = [(0, len(para))]
        for s, e in offsets:
            piece = para[s:e]
            lead = len(piece) - len(piece.lstrip())
            trail = len(piece) - len(piece.rstrip())
            if e - s - lead - trail > 0:
                spans.append((base + s + lead, base + e - trail))
    return spans


def _split_long(text: str, span: tuple[int, int], ntok: int, budget: int,
                count: TokenCounter) -> list[tuple[int, int]]:
    """A sentence over the budget is cut at word boundaries into pieces that fit."""
    s, e = span
    words = [(m.start() + s, m.end() + s) for m in re.finditer(r"\S+", text[s:e])]
    if len(words) <= 1:
        # One enormous "word": cut by characters, proportionally to its token count; a cut
        # that still does not fit (tokens are not spread evenly) is cut again.
        step = max(1, (e - s) * budget // max(ntok, 1) // 2)
        cuts = [(i, min(i + step, e)) for i in range(s, e, step)]
        split: list[tuple[int, int]] = []
        for (a, b), c in zip(cuts, count([text[a:b] for a, b in cuts])):
            split.extend(_split_long(text, (a, b), c, budget, count)
                         if c > budget and b - a > 1 else [(a, b)])
        return split
    counts = count([text[a:b] for a, b in words])
    pieces: list[tuple[int, int]] = []
    start: int | None = None  # first word of the open piece (a piece starts on a word)
    used = 0
    last_end = s
    for (a, b), c in zip(words, counts):
        if start is not None and used + c > budget:
            pieces.append((start, last_end))
            start, used = None, 0
        if c > budget:  # a single word longer than the budget
            pieces.extend(_split_long(text, (a, b), c, budget, count) if b - a > 1 else [(a, b)])
            continue
        if start is None:
            start = a
        used += c
        last_end = b
    if start is not None:
        pieces.append((start, last_end))
    return [(a, b) for a, b in pieces if b > a]


def chunk_article(article: Article, count: TokenCounter, chunk_tokens: int = 200) -> list[Chunk]:
    """Chunks of every section. The whole article's sentences are counted in one call."""
    sections = article.sections
    per_section = [sentence_spans(sec.text) for sec in sections]
    flat = [sec.text[a:b] for sec, spans in zip(sections, per_section) for a, b in spans]
    prefixes = [embed_prefix(article.title, sec.heading_path) for sec in sections]
    counts = count(flat + prefixes) if flat else []
    prefix_counts = counts[len(flat):]
    counts = counts[: len(flat)]
    chunks: list[Chunk] = []
    pos = 0
    for si, (sec, spans) in enumerate(zip(sections, per_section)):
        ntoks = counts[pos: pos + len(spans)]
        pos += len(spans)
        budget = max(16, min(chunk_tokens,
                             MODEL_MAX_TOKENS - 2 - min(prefix_counts[si], _MAX_PREFIX_TOKENS)))
        sents: list[tuple[int, int]] = []
        sent_tokens: list[int] = []
        for span, n in zip(spans, ntoks):
            if n > budget:
                for piece in _split_long(sec.text, span, n, budget, count):
                    sents.append(piece)
                    sent_tokens.append(count([sec.text[piece[0]:piece[1]]])[0])
            else:
                sents.append(span)
                sent_tokens.append(n)
        chunks.extend(_pack(article, si, sec.text, sents, sent_tokens, budget, sec.page, count))
    return chunks


def _pack(article: Article, si: int, text: str, sents: list[tuple[int, int]],
          tokens: list[int], budget: int, page: int | None, count: TokenCounter) -> list[Chunk]:
    if not sents:
        return []
    # Each sentence owns the text up to the next sentence, so chunks tile the section exactly.
    owned_start = [0] + [s for s, _ in sents[1:]]
    owned_end = [s for s, _ in sents[1:]] + [len(text)]
    heading = article.sections[si].heading_path
    out: list[Chunk] = []
    i = 0
    n = len(sents)

    def glued(k: int) -> bool:
        """Sentences k and k+1 are not separated by white space (e.g. pieces of one cut word):
        the word pieces of their joined text are not the sum of theirs."""
        gap = text[sents[k][1]:sents[k + 1][0]]
        return not gap or bool(gap.strip())

    while i < n:
        j = i
        used = tokens[i]
        while j + 1 < n:
            if glued(j):
                more = count([text[sents[i][0]:sents[j + 1][1]]])[0]
            else:
                more = used + tokens[j + 1]
            if more > budget:
                break
            j += 1
            used = more
        start, end = owned_start[i], owned_end[j]
        body = text[start:end]
        out.append(Chunk(
            id=content_id(article.source, article.title, SECTION_SEP.join(heading), body),
            article_id=article.id, section_index=si, heading_path=heading, text=body,
            start=start, end=end, sentences=tuple(sents[i:j + 1]), page=page, ntokens=used))
        if j + 1 >= n:
            break
        # Overlap by one sentence when the chunk had more than one and the overlap still fits.
        i = j if j > i and not glued(j) and tokens[j] + tokens[j + 1] <= budget else j + 1
    return out


def join_chunks(chunks: Sequence[Chunk]) -> str:
    """The section text back from its chunks, dropping the overlap: the chunker's invariant."""
    out = []
    end = 0
    for c in chunks:
        out.append(c.text[end - c.start:] if c.start < end else c.text)
        end = c.end
    return "".join(out)
