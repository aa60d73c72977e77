"""The staff's workspace in the chat page: saved conversations, history search, shared answers
and feedback, drawn with Streamlit over `assistant.workspace` (which holds all the logic).

Kept apart from app.py so the page's other parts change without touching this. Every database
failure reaches the page as one line (`DatabaseUnavailable`); the chat goes on without saving.
Users are keyed by the signed-in label (e-mail, else "sub:…"), or one local user when sign-in
is not configured.
"""

from __future__ import annotations

import logging
import sys
import urllib.parse

import streamlit as st

from assistant.config import Settings
from assistant.ui import support as ui
from assistant.workspace import (
    LOCAL_USER,
    DatabaseUnavailable,
    WorkspaceHolder,
    database_url,
    shares,
)
from assistant.workspace import conversations as convs
from assistant.workspace import feedback as fb
from assistant.workspace import search as history

log = logging.getLogger("article_assistant.app")

LISTED = 30  # conversations listed in the sidebar


# ------------------------------------------------------------------------------ the database

@st.cache_resource(show_spinner=False)
def _holder(url: str) -> WorkspaceHolder:
    return WorkspaceHolder(url=url)


@st.cache_resource(show_spinner=False)
def _import_feedback(url: str, data_dir: str) -> None:
    """Once per process: an older data/feedback.jsonl goes into the database (once in all)."""
    try:
        n, problems = fb.import_jsonl(_holder(url).get(), f"{data_dir}/{fb.JSONL}")
    except DatabaseUnavailable:
        _import_feedback.clear()  # try again once the database is back
        return
    for line in problems:
        print(line, file=sys.stderr, flush=True)
    if n:
        print(f"Imported {n} feedback line(s) from {data_dir}/{fb.JSONL} into the app database.",
              file=sys.stderr, flush=True)


def workspace():
    """The open workspace, or None (the reason is kept in st.session_state.ws_problem)."""
    settings = Settings()
    url = database_url(settings)
    try:
        ws = _holder(url).get()
    except DatabaseUnavailable as exc:
        st.session_state.ws_problem = str(exc)
        return None
    st.session_state.pop("ws_problem", None)
    _import_feedback(url, str(settings.data_dir))
    return ws


def owner() -> str:
    return st.session_state.get("signed_in_as") or LOCAL_USER


def _failed(exc: DatabaseUnavailable, what: str) -> str:
    log.warning("%s: %s", what, exc)
    return ui.message_markdown(f"{what}: {exc}")


# ------------------------------------------------------------------------------ conversations

def _messages_of(turns) -> list[dict]:
    out: list[dict] = []
    for t in turns:
        out.append({"role": "user", "content": t.question})
        out.append({"role": "assistant", "id": f"s{t.message_id}", "question": t.question,
                    "history": list(t.history), "filtered": t.filtered, "answer": t.answer,
                    "message_id": t.message_id})
    return out


def open_conversation(conversation_id: str, focus: int | None = None) -> bool:
    """Load one of the user's conversations into the chat; False when there is none such."""
    state = st.session_state
    ws = workspace()
    if ws is None:
        state.ws_notice = _failed(DatabaseUnavailable(state.get("ws_problem", "")),
                                  "The conversation could not be opened")
        return False
    try:
        found = convs.get_conversation(ws, owner(), conversation_id)
    except DatabaseUnavailable as exc:
        state.ws_notice = _failed(exc, "The conversation could not be opened")
        return False
    if found is None:
        state.ws_notice = "No conversation of yours has this link."
        st.query_params.pop("c", None)
        return False
    conversation, turns = found
    state.messages = _messages_of(turns)
    state.conversation_id = conversation.id
    state.focus_message = focus
    state.pop("open_target", None)
    state.pop("confirm_delete", None)
    st.query_params["c"] = conversation.id
    return True


def open_from_url() -> None:
    """?c=<id> (a reload, a bookmark): open it unless it is the one already shown."""
    wanted = st.query_params.get("c")
    if wanted and wanted != st.session_state.get("conversation_id"):
        open_conversation(wanted)


def forget_conversation() -> None:
    """New chat: the next answer starts a new saved conversation."""
    for key in ("conversation_id", "focus_message", "confirm_delete"):
        st.session_state.pop(key, None)
    st.query_params.pop("c", None)


def save_answer(msg: dict) -> None:
    """Save an answered turn; on failure the message gets one line (`save_error`)."""
    state = st.session_state
    if "answer" not in msg or msg["answer"].notice and not msg["answer"].passages:
        return  # nothing was asked (an empty question, ...)
    ws = workspace()
    if ws is None:
        msg["save_error"] = _failed(DatabaseUnavailable(state.get("ws_problem", "no database")),
                                    "This answer was not saved")
        return
    try:
        cid, mid = convs.save_answer(ws, owner(), state.get("conversation_id"), msg["answer"],
                                     msg.get("history", []), msg.get("filtered", 0))
    except DatabaseUnavailable as exc:
        msg["save_error"] = _failed(exc, "This answer was not saved")
        return
    msg["message_id"] = mid
    if state.get("conversation_id") != cid:
        state.conversation_id = cid
        st.query_params["c"] = cid


def _rename(conversation_id: str) -> None:
    title = st.session_state.get(f"title-{conversation_id}", "")
    ws = workspace()
    try:
        if ws is not None:
            convs.rename(ws, owner(), conversation_id, title)
    except DatabaseUnavailable as exc:
        st.session_state.ws_notice = _failed(exc, "The conversation was not renamed")


def _delete(conversation_id: str) -> None:
    state = st.session_state
    ws = workspace()
    try:
        deleted = ws is not None and convs.delete(ws, owner(), conversation_id)
        if deleted and state.get("conversation_id") == conversation_id:
            state.messages = []
            forget_conversation()
    except DatabaseUnavailable as exc:
        state.ws_notice = _failed(exc, "The conversation was not deleted")
    state.pop("confirm_delete", None)


CONVERSATION_CSS = """<style>
.aa-convs { display: flex; flex-direction: column; gap: .1rem; }
.aa-convs a { display: block; padding: .3rem .6rem; border-radius: .4rem; text-decoration: none;
  color: inherit; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.aa-convs a:hover { background: rgba(28, 100, 216, .08); }
.aa-convs a.aa-conv-open { background: rgba(28, 100, 216, .15); font-weight: 600; }
</style>"""


def conversation_links(listed, current: str | None) -> str:
    """The sidebar list as HTML: each title (escaped: it is what someone typed) a link."""
    items = []
    for c in listed:
        cls = ' class="aa-conv-open" aria-current="page"' if c.id == current else ""
        href = "?" + urllib.parse.urlencode({"c": c.id})
        items.append(f'<a href="{ui.escape_html(href)}" target="_self"{cls}>'
                     f"{ui.html_text(c.title)}</a>")
    return (CONVERSATION_CSS + '<nav class="aa-convs" aria-label="Your conversations">'
            + "".join(items) + "</nav>")


def _ask_delete(conversation_id: str | None) -> None:
    st.session_state.confirm_delete = conversation_id


def sidebar_conversations() -> None:
    """The user's saved conversations and the search over them (drawn by the chat fragment, so
    a new conversation is listed as soon as its first answer is saved)."""
    state = st.session_state
    st.subheader("Your conversations")
    if not state.get("signed_in_as"):
        st.caption("Sign-in is not configured: conversations are kept for one local user, and "
                   "everyone who can open this page sees them.")
    ws = workspace()
    if ws is None:
        st.warning(ui.message_markdown(
            f"Conversations are not saved now: {state.get('ws_problem', '')}"),
            icon=":material/cloud_off:")
        return
    query = st.text_input("Search your conversations", key="history_query",
                          placeholder="Words of a question or answer")
    try:
        if query.strip():
            _search_results(ws, query)
        listed = convs.list_conversations(ws, owner(), limit=LISTED)
    except DatabaseUnavailable as exc:
        st.warning(ui.message_markdown(str(exc)), icon=":material/cloud_off:")
        return
    current = state.get("conversation_id")
    if not listed:
        st.caption("Answers you get are saved here.")
    else:
        # Links, not a widget per conversation: this is redrawn with every answer, and each
        # widget costs server CPU (bench_load: 30 buttons added 12 ms a question). Opening one
        # loads the page at its ?c= address.
        st.html(conversation_links(listed, current))
    if current and any(c.id == current for c in listed):
        title = next(c.title for c in listed if c.id == current)
        with st.expander("This conversation"):
            st.text_input("Title", value=title, key=f"title-{current}", on_change=_rename,
                          args=(current,), max_chars=300)
            if state.get("confirm_delete") == current:
                st.warning("Delete this conversation and its shared links for good?")
                left, right = st.columns(2)
                left.button("Delete for good", key="delete-yes", type="primary",
                            on_click=_delete, args=(current,))
                right.button("Cancel", key="delete-no", on_click=_ask_delete, args=(None,))
            else:
                st.button("Delete…", key="delete", icon=":material/delete:",
                          on_click=_ask_delete, args=(current,))
    _shares_list(ws)


def _search_results(ws, query: str) -> None:
    hits = history.search(ws, owner(), query)
    if not hits:
        st.caption("No saved question or answer has these words.")
    for h in hits:
        snippet = h.snippet if len(h.snippet) <= 90 else h.snippet[:89].rstrip() + "…"
        st.button(f"{h.question} — {snippet}", key=f"hit-{h.message_id}",
                  on_click=open_conversation, args=(h.conversation_id, h.message_id),
                  type="tertiary", icon=":material/search:")


def notices() -> None:
    """One-line notices of the last action (drawn at the top of the chat)."""
    notice = st.session_state.pop("ws_notice", None)
    if notice:
        st.warning(notice, icon=":material/info:")


# ------------------------------------------------------------------------------ answers

def _share(msg_id: str) -> None:
    state = st.session_state
    msg = next((m for m in state.get("messages", []) if m.get("id") == msg_id), None)
    if msg is None or "message_id" not in msg:
        return
    ws = workspace()
    try:
        if ws is None:
            raise DatabaseUnavailable(state.get("ws_problem", ""))
        token = shares.create_share(ws, owner(), msg["message_id"])
    except (DatabaseUnavailable, KeyError) as exc:
        msg["share_error"] = _failed(DatabaseUnavailable(str(exc)), "No link was made")
        return
    page = urllib.parse.urlsplit(st.context.url or "")
    msg["share_link"] = urllib.parse.urlunsplit(
        (page.scheme, page.netloc, page.path or "/", urllib.parse.urlencode({"share": token}), ""))
    msg.pop("share_error", None)


def answer_actions(msg: dict) -> None:
    """Under an answer: whether it was saved, and the Share action."""
    if msg.get("message_id") == st.session_state.get("focus_message") and msg.get("message_id"):
        st.caption("Found by your search.")
    if msg.get("save_error"):
        st.error(msg["save_error"])
    if msg.get("message_id") and not msg["answer"].abstained:
        st.button("Share", key=f"share-{msg['id']}", icon=":material/share:", type="tertiary",
                  on_click=_share, args=(msg["id"],),
                  help="A link to a read-only copy of this answer, for signed-in colleagues.")
    if msg.get("share_link"):
        st.caption("Link to this answer (anyone allowed to sign in can open it; revoke it "
                   "under Your shared answers):")
        st.code(msg["share_link"], language=None)
    if msg.get("share_error"):
        st.error(msg["share_error"])


def save_feedback(msg: dict, record: dict) -> str | None:
    """Store a rating; returns the one line to show when it could not be saved."""
    ws = workspace()
    try:
        if ws is None:
            raise DatabaseUnavailable(st.session_state.get("ws_problem", ""))
        fb.record_feedback(ws, record, msg.get("message_id"))
    except DatabaseUnavailable as exc:
        return _failed(exc, "Could not save the feedback")
    return None


# ------------------------------------------------------------------------------ shares

def _revoke(share_id: str) -> None:
    ws = workspace()
    try:
        if ws is not None:
            shares.revoke(ws, owner(), share_id)
    except DatabaseUnavailable as exc:
        st.session_state.ws_notice = _failed(exc, "The link was not revoked")


def _shares_list(ws) -> None:
    mine = shares.list_shares(ws, owner())
    if not mine:
        return
    live = sum(1 for s in mine if s.revoked is None)
    with st.expander(f"Your shared answers ({live} live)"):
        for s in mine:
            when = s.created.strftime("%Y-%m-%d %H:%M")
            if s.revoked is None:
                st.caption(f"{ui.escape_markdown(s.question)} · shared {when}")
                st.button("Revoke", key=f"revoke-{s.id}", on_click=_revoke, args=(s.id,),
                          icon=":material/link_off:", type="tertiary")
            else:
                st.caption(f"~~{ui.escape_markdown(s.question)}~~ · revoked")


def share_page(token: str, assistant, open_article, scope=None) -> None:
    """The read-only view behind ?share=<token>: the snapshot, and what changed since. A
    citation of a collection the reader may not read (`scope`, issue 23) is shown as withheld,
    and so is the answer's text, which quotes it."""
    st.title("Shared answer")
    st.button("Back to the chat", icon=":material/arrow_back:", on_click=_leave_share)
    ws = workspace()
    if ws is None:
        st.error(ui.message_markdown(
            f"The shared answer cannot be opened now: {st.session_state.get('ws_problem')}"))
        return
    try:
        opened = shares.open_share(ws, token)
    except DatabaseUnavailable as exc:
        st.error(ui.message_markdown(f"The shared answer cannot be opened now: {exc}"))
        return
    if opened.status == "revoked":
        st.error("This link was revoked by the person who shared it.", icon=":material/link_off:")
        return
    if opened.status != "ok":
        st.error("This link does not open a shared answer (it is mistyped or incomplete).")
        return
    answer = opened.answer
    st.caption(f"Shared by {ui.escape_markdown(opened.sharer)} on "
               f"{opened.created.strftime('%Y-%m-%d %H:%M')} UTC · a read-only copy as it was "
               "answered then")
    st.markdown("**Question:** " + ui.escape_markdown(answer.question))
    changed = {}
    if assistant is not None:
        changed = shares.freshness(answer, assistant.article)
    hidden = {c.n for c in answer.citations
              if scope is not None and not scope.permits_source(c.source)}
    if hidden:
        st.warning("This answer cites a collection you may not read: its text and those "
                   "sources are withheld.", icon=":material/lock:")
    elif answer.tier == "possible":
        st.warning("This may answer the question (the best sentences found).")
    if not hidden:
        st.html(ui.answer_html(answer, "aa-shared"))
    st.markdown("**Sources**")
    for c in answer.citations:
        if c.n in hidden:
            st.caption(f"[{c.n}] Withheld: this source is in a collection you may not read.")
            continue
        st.html(ui.source_html(c, "aa-shared"))
        state = changed.get(c.n)
        if state == "gone":
            st.warning(f"[{c.n}] This article is no longer in the index: it was removed since "
                       "the answer was shared.", icon=":material/delete_forever:")
        elif state == "changed":
            st.warning(f"[{c.n}] This article has changed since the answer was shared: the "
                       "quoted passage is no longer in it word for word.",
                       icon=":material/published_with_changes:")
        if state != "gone" and assistant is not None:
            st.button(f"Open [{c.n}] in the article", key=f"shared-open-{c.n}", type="tertiary",
                      icon=":material/article:", on_click=open_article,
                      args=(ui.Target.of_citation(c),))


def _leave_share() -> None:
    st.query_params.pop("share", None)


SAVE_LINK_JS = """<div style="display:none"></div><script>
(() => { const t = new URLSearchParams(window.location.search).get('share');
  if (t) { window.sessionStorage.setItem('aa-share', t); } })();
</script>"""
RESUME_LINK_JS = """<div style="display:none"></div><script>
(() => { const t = window.sessionStorage.getItem('aa-share');
  if (!t) return;
  window.sessionStorage.removeItem('aa-share');
  if (!new URLSearchParams(window.location.search).get('share')) {
    window.location.replace(window.location.pathname + '?share=' + encodeURIComponent(t)); }
})();
</script>"""


def remember_share_link() -> None:
    """On the sign-in page: keep a share link's token in this tab (sign-in returns to the bare
    address), so the link opens right after signing in. The script reads the address itself;
    nothing from the request is written into it."""
    if "share" in st.query_params:
        st.html(SAVE_LINK_JS, unsafe_allow_javascript=True)


def resume_share_link() -> None:
    """Signed in: go on to the share link that brought this tab to the sign-in page."""
    st.html(RESUME_LINK_JS, unsafe_allow_javascript=True)
