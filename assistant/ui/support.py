"""Plain logic behind the chat app: escaping untrusted article text, splitting an answer into
sentences and citation markers, highlighting a quote, exporting a conversation as Markdown
(the feedback log is feedback.py). Kept out of app.py (and free of Streamlit) so it is
unit-tested directly.

Article text is untrusted: everything that reaches HTML goes through `html_text` (escaped, and
without raw newlines, so it can never end a Markdown HTML block and be re-read as Markdown), and
everything that reaches Markdown goes through `escape_markdown`.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..records import Answer, ArticleInfo, Citation, Passage
from ..safe_text import neutralize_links, strip_controls

MARKER = re.compile(r"\[(\d+)\]")
# How the LLM reader's sentences are checked (ASSISTANT_LLM_VERIFY), as the sidebar says it.
VERIFY_MODE_LABELS = {"rules": "the verifier's rules", "model": "the rules' gates and the model"}


# ------------------------------------------------------------------------------ escaping

def escape_html(text) -> str:
    """Text -> HTML text (quotes too, so it is safe inside attribute values)."""
    return html.escape(str(text), quote=True)


def html_text(text) -> str:
    """Text -> escaped HTML with line breaks as <br>. The result has no newline at all."""
    escaped = escape_html(str(text).replace("\r\n", "\n").replace("\r", "\n"))
    return escaped.replace("\n", "<br>")


_MD_INLINE = re.compile(r"([\\`*_{}\[\]<>#~|$&!:])")
_MD_LIST_BULLET = re.compile(r"^([-+=])")
_MD_LIST_NUMBER = re.compile(r"^(\d+)([.)])")


def escape_markdown(text, strip_indent: bool = True) -> str:
    """Text -> Markdown that shows exactly that text: no emphasis, links, images, HTML, headings,
    lists, code, math, Streamlit directives or autolinks (`safe_text.neutralize_links`: escaping
    does not stop "www." or "http://" from becoming a link). Control characters are removed.
    Leading indentation is dropped (it would make a code block)."""
    lines = []
    for line in neutralize_links(strip_controls(text)).split("\n"):
        line = _MD_INLINE.sub(r"\\\1", line.lstrip() if strip_indent else line)
        line = _MD_LIST_BULLET.sub(r"\\\1", line)
        line = _MD_LIST_NUMBER.sub(r"\1\\\2", line)
        lines.append(line)
    return "\n".join(lines)


def message_markdown(text) -> str:
    """A library message (error, notice) as Markdown: `code` spans stay code (they name
    commands), everything else is escaped (messages may quote file names)."""
    parts = re.split(r"(`[^`\n]+`)", str(text))
    return "".join(p if i % 2 else escape_markdown(p, strip_indent=i == 0)
                   for i, p in enumerate(parts))


# ------------------------------------------------------------------------------ answers

def source_label(article: str, section: str, page: int | None = None) -> str:
    """"Article › Section (p. N)"; the lead section is named by the article title alone."""
    label = article if (not section or section == article) else f"{article} › {section}"
    return f"{label} (p. {page})" if page else label


def citation_label(c: Citation) -> str:
    return source_label(c.article, c.section, c.page)


def passage_label(p: Passage) -> str:
    return source_label(p.article_title, p.section, p.chunk.page)


def answer_segments(answer: Answer) -> list[tuple[str, int | None]]:
    """The answer as (text, citation number or None) pieces, in order.

    The answering stage writes "quote [n] quote [m]"; when the text is exactly that, the pieces
    come from the citations themselves (so a literal "[2]" inside a quoted sentence is never
    mistaken for a marker). Otherwise markers are parsed, and only numbers that have a
    citation become markers."""
    cits = answer.citations
    if cits and answer.text == " ".join(f"{c.quote} [{c.n}]" for c in cits):
        return [(c.quote, c.n) for c in cits]
    out: list[tuple[str, int | None]] = []
    pos = 0
    for m in MARKER.finditer(answer.text):
        n = int(m.group(1))
        if not 1 <= n <= len(cits):
            continue
        out.append((answer.text[pos:m.start()].rstrip(), n))
        pos = m.end()
    rest = answer.text[pos:].strip()
    if rest:
        out.append((rest, None))
    return out


def find_quote(text: str, quote: str, start: int | None = None, end: int | None = None
               ) -> tuple[int, int] | None:
    """Where `quote` is in `text`: at the given offsets when they match, else its first
    occurrence, else None."""
    if not quote:
        return None
    if start is not None and end is not None and 0 <= start <= end <= len(text) \
            and text[start:end] == quote:
        return start, end
    i = text.find(quote)
    return (i, i + len(quote)) if i >= 0 else None


def highlight_html(text: str, span: tuple[int, int] | None, css_class: str = "aa-quote") -> str:
    """Escaped HTML of `text` with text[span] wrapped in <mark>. The three pieces are escaped
    separately, so markup in the text can neither leak out nor swallow the highlight."""
    if not span:
        return html_text(text)
    a, b = span
    return (html_text(text[:a]) + f'<mark class="{escape_html(css_class)}">' + html_text(text[a:b])
            + "</mark>" + html_text(text[b:]))


def citation_passage_html(c: Citation) -> str:
    return highlight_html(c.passage, find_quote(c.passage, c.quote))


def answer_html(answer: Answer, anchor: str) -> str:
    """The answer sentences, each followed by its marker: a link to source `anchor-n` whose
    tooltip names the source. Article text is escaped."""
    by_n = {c.n: c for c in answer.citations}
    parts = []
    for text, n in answer_segments(answer):
        piece = html_text(text)
        if n is not None:
            c = by_n[n]
            piece += (f'<a class="aa-cite" href="#{escape_html(anchor)}-{n}" '
                      f'title="{escape_html(citation_label(c))}">[{n}]</a>')
        parts.append(piece)
    return f'<div class="aa-answer">{" ".join(parts)}</div>'


def source_html(c: Citation, anchor: str) -> str:
    """One numbered source: "[n] Article › Section (p. N)", its file, and the passage with the
    quoted sentence highlighted."""
    return (f'<div class="aa-src" id="{escape_html(anchor)}-{c.n}">'
            f'<div class="aa-src-head"><span class="aa-badge">[{c.n}]</span> '
            f'{html_text(citation_label(c))}</div>'
            f'<div class="aa-src-file">{html_text(c.source)}</div>'
            f'<div class="aa-passage">{citation_passage_html(c)}</div></div>')


def passage_html(p: Passage, rank: int) -> str:
    """A closest passage (shown when the assistant abstains)."""
    return (f'<div class="aa-src aa-near">'
            f'<div class="aa-src-head"><span class="aa-badge aa-badge-near">{rank}</span> '
            f'{html_text(passage_label(p))}</div>'
            f'<div class="aa-src-file">{html_text(p.source)}</div>'
            f'<div class="aa-passage">{html_text(p.chunk.text.strip())}</div></div>')


# ------------------------------------------------------------------------------ article view

@dataclass(frozen=True)
class Target:
    """What to show in the article view: an article, the section to mark, and a span of that
    section's text to highlight (the quote, or the passage)."""

    article_id: str
    section_index: int
    start: int | None = None
    end: int | None = None
    text: str = ""  # the quoted words, to find them if the offsets no longer match
    label: str = ""

    @classmethod
    def of_citation(cls, c: Citation) -> Target:
        return cls(c.article_id, c.section_index, c.quote_start, c.quote_end, c.quote,
                   f"[{c.n}] {citation_label(c)}")

    @classmethod
    def of_passage(cls, p: Passage) -> Target:
        return cls(p.chunk.article_id, p.chunk.section_index, p.chunk.start, p.chunk.end,
                   p.chunk.text, passage_label(p))


def article_html(article: ArticleInfo, sections: Sequence, target: Target) -> tuple[str, bool]:
    """The whole article with its section headings, the target section marked (id "aa-cited")
    and the quote highlighted. Sections before the target are folded into a <details> whose
    summary names them, so the cited section is in view without scripts. Returns (html,
    whether the quote was found)."""
    title = article.title
    out = [f'<div class="aa-article"><h3 class="aa-art-title">{html_text(title)}</h3>',
           f'<div class="aa-src-file">{html_text(article.source)}</div>']
    cited_at = target.section_index if 0 <= target.section_index < len(sections) else -1
    found = False
    if cited_at > 0:
        names = " · ".join(html_text(s.heading_path[-1]) if s.heading_path else "Introduction"
                           for s in sections[:cited_at])
        out.append(f'<details class="aa-earlier"><summary>{cited_at} earlier section(s): '
                   f'{names}</summary>')
    for i, s in enumerate(sections):
        cited = i == cited_at
        span = find_quote(s.text, target.text, target.start, target.end) if cited else None
        found = found or span is not None
        cls = "aa-section aa-cited" if cited else "aa-section"
        ident = ' id="aa-cited"' if cited else ""
        out.append(f'<div class="{cls}"{ident}>')
        if s.heading_path:
            level = min(6, 3 + len(s.heading_path))
            out.append(f'<h{level} class="aa-heading">{html_text(s.heading_path[-1])}</h{level}>')
        if cited:
            out.append('<div class="aa-cited-label">cited section</div>')
        if s.page:
            out.append(f'<div class="aa-src-file">page {int(s.page)}</div>')
        out.append(f'<div class="aa-text">{highlight_html(s.text, span)}</div></div>')
        if cited_at > 0 and i == cited_at - 1:
            out.append("</details>")
    out.append("</div>")
    return "".join(out), found


# ------------------------------------------------------------------------------ export

def conversation_markdown(turns: Iterable[tuple[str, Answer]],
                          exported_at: str | None = None) -> str:
    """A conversation as a Markdown document, each answer followed by its sources (article,
    section, page, file and the quoted sentence). Article text is Markdown-escaped."""
    exported_at = exported_at or time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = ["# Article Assistant conversation", "", f"Exported {exported_at}", ""]
    for i, (question, answer) in enumerate(turns, start=1):
        lines += [f"## {i}. {escape_markdown(question)}", ""]
        if answer.notice:
            lines += [f"*{escape_markdown(answer.notice)}*", ""]
        if answer.abstained:
            lines += [escape_markdown(answer.text), ""]
            if answer.passages:
                lines += ["Closest passages:", ""]
                lines += [f"- {escape_markdown(passage_label(p))} ({escape_markdown(p.source)})"
                          for p in answer.passages]
                lines.append("")
            continue
        body = " ".join(escape_markdown(t) + (f" \\[{n}\\]" if n is not None else "")
                        for t, n in answer_segments(answer))
        if answer.tier == "possible":
            body = "*May answer (low confidence): check the sources.* " + body
        lines += [body, "", "**Sources**", ""]
        for c in answer.citations:
            lines += [f"\\[{c.n}\\] {escape_markdown(citation_label(c))}  ",
                      f"File: {escape_markdown(c.source)}  ",
                      f"> {escape_markdown(c.quote)}", ""]
    return "\n".join(lines).rstrip() + "\n"
