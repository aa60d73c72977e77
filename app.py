"""Article Assistant: the browser chat. UI only: it reads input, calls `assistant/` and renders.

Article text is untrusted. It reaches the page only through `assistant.ui.support` (escaped HTML
for st.html, escaped Markdown elsewhere) and never through a label.
"""

from __future__ import annotations

import gc
import logging
import sys
import uuid
from pathlib import Path

import streamlit as st

import app_review  # the administrators' feedback review page (UI only)
import workspace_ui as wsui  # saved conversations, history search, shares (issue 22)
from assistant import access as accesslib
from assistant import review, service
from assistant.access_views import readable_answer
from assistant.config import Settings
from assistant.errors import AssistantError, IndexNotBuilt, SettingError
from assistant.safe_text import redact_url
from assistant.ui import (
    auth,  # the sign-in gate decides before anything of the library is shown
    feedback,
    freshness,  # how current the index is; Update now
    warm,  # what app_server.py loaded before the server started
)
from assistant.ui import support as ui  # the page's escaping and HTML: UI code kept testable
from assistant.ui.catalog import ArticleCatalog
from assistant.ui.watch import CorpusWatch

log = logging.getLogger("article_assistant.app")

st.set_page_config(page_title="Article Assistant", page_icon=":material/menu_book:")

CSS = """<style>
.aa-answer { line-height: 1.65; font-size: 1.02rem; }
a.aa-cite { display: inline-block; margin: 0 .15em 0 .2em; padding: 0 .38em; border-radius: .7em;
  font-size: .72em; font-weight: 700; line-height: 1.45; vertical-align: super;
  background: #1c64d8; color: #fff !important; text-decoration: none !important; }
a.aa-cite:hover { background: #0b3f94; }
.aa-badge { display: inline-block; padding: 0 .4em; border-radius: .7em; font-size: .8em;
  font-weight: 700; background: #1c64d8; color: #fff; margin-right: .25em; }
.aa-badge-near { background: #8a6d00; }
.aa-src { border-left: 3px solid #1c64d8; border-radius: 0 .45rem .45rem 0; padding: .45rem .8rem;
  margin: .2rem 0 .1rem 0; background: rgba(28, 100, 216, .06); scroll-margin-top: 4rem; }
.aa-near { border-left-color: #c9a000; background: rgba(201, 160, 0, .07); }
.aa-src-head { font-weight: 600; }
.aa-src-file { opacity: .65; font-size: .8em; }
.aa-passage { font-size: .92em; margin-top: .3rem; line-height: 1.55; }
mark.aa-quote { background: #ffe866; color: #1a1a1a; padding: 0 .1em; border-radius: .15em; }
.aa-article { line-height: 1.6; }
.aa-section { padding: .25rem .75rem; margin: .4rem 0; scroll-margin-top: 1rem; }
.aa-cited { border-left: 4px solid #e0a800; background: rgba(224, 168, 0, .09);
  border-radius: 0 .45rem .45rem 0; }
.aa-cited-label { font-size: .75em; font-weight: 700; text-transform: uppercase; color: #a07800; }
.aa-heading { margin: .4rem 0 .2rem 0; }
.aa-earlier summary { cursor: pointer; opacity: .75; font-size: .9em; margin: .3rem 0; }
.aa-jump { font-size: .9em; margin-bottom: .4rem; }
</style>"""


# ------------------------------------------------------------------------------ resources

@st.cache_resource(show_spinner=False)
def get_embedder(threads: int, batch_size: int, precision: str = "auto"):
    """One model per process for the assistant's questions."""
    preloaded = warm.take("embedder", threads, batch_size, precision)  # app_server.py
    if preloaded is not None:
        return preloaded
    return service.make_embedder(Settings().replace(threads=threads, batch_size=batch_size,
                                                    precision=precision))


@st.cache_resource(show_spinner="Loading the model and the index…")
def get_assistant(index_dir: str):
    """One Assistant per process (thread-safe; it follows rebuilds by itself).

    Questions are embedded on one thread unless ASSISTANT_THREADS says otherwise: a question is
    a dozen tokens, and splitting its forward pass over cores only made each wait for the
    slowest one. Under load (50 sessions, other work on the machine) two threads cost 0.18 s of
    CPU per question against 0.04 s with one (benchmarks/bench_load.py, paced)."""
    preloaded = warm.take("assistant", index_dir)  # loaded before the server started
    if preloaded is not None:
        freeze_heap()
        return preloaded
    settings = Settings().replace(index_dir=Path(index_dir))
    assistant = service.Assistant.open(settings=settings,
                               embedder=get_embedder(settings.threads or 1, settings.batch_size,
                                                     settings.precision))
    assistant.encode(["warm up"])  # load the model now, not at the first question
    freeze_heap()
    return assistant


def freeze_heap() -> None:
    """Move what is loaded now (torch, the model, the index, the article list) out of the
    garbage collector's sight: a full collection walked all of it, 40% of the server's CPU per
    question in a profile when Streamlit collected after every run (runner.postScriptGC, now
    off in .streamlit/config.toml). Objects that become unreachable are still freed by
    reference counting."""
    gc.collect()
    gc.freeze()


@st.cache_resource(show_spinner=False, max_entries=8)
def get_catalog(index_dir: str, build: str, scope_key: str = "",
                _scope: accesslib.Scope | None = None) -> ArticleCatalog:
    """The articles of one build a scope may read, ready to search (made once per build and
    scope, for all sessions; `scope_key` is the scope's repr, what the cache is keyed by)."""
    catalog = ((warm.take("catalog", index_dir, build) if _scope is None else None)
               or ArticleCatalog(get_assistant(index_dir).articles(scope=_scope)))
    freeze_heap()
    return catalog


def current_scope() -> accesslib.Scope | None:
    """What this visitor may read, by the rules as they are now (read at every request, so a
    changed rule applies to the next question). None: no rules, everything open."""
    reader = st.session_state.get("reader")
    path = accesslib.rules_path()
    if path is None:
        return None
    return accesslib.scope_for(reader or accesslib.Reader(), path,
                               admins=st.session_state.get("admins", ()))


@st.cache_resource(show_spinner=False, max_entries=4)
def corpus_watch(corpus_dir: str):
    """One watcher per corpus folder and process, shared by all sessions."""
    return warm.take("watch", corpus_dir) or CorpusWatch(corpus_dir)


@st.cache_data(show_spinner=False, max_entries=16)
def stale_reason(corpus_dir: str, index_dir: str, build_name: str, digest: str) -> str | None:
    """The corpus check (it reads the files whose size or time changed); redone only when a file
    or the build changed, from the corpus watcher's last walk."""
    settings = Settings().replace(corpus_dir=Path(corpus_dir), index_dir=Path(index_dir))
    return service.index_state(settings, scanned=corpus_watch(corpus_dir).files).stale


# ------------------------------------------------------------------------------ callbacks

def new_chat() -> None:
    st.session_state.messages = []
    st.session_state.pop("open_target", None)
    wsui.forget_conversation()


def open_article(target: ui.Target) -> None:
    st.session_state.open_target = target


def record_feedback(msg_id: str) -> None:
    value = st.session_state.get(f"fb-{msg_id}")
    msg = next((m for m in st.session_state.get("messages", []) if m.get("id") == msg_id), None)
    if value is None or msg is None or "answer" not in msg:
        return
    rating = "up" if value == 1 else "down"
    record = feedback.feedback_record(msg["answer"], rating, msg.get("history", []),
                                      user=st.session_state.get("signed_in_as"))
    error = wsui.save_feedback(msg, record)
    if error is None:
        msg["feedback"] = rating
        msg["feedback_id"] = record["id"]
        msg.pop("feedback_error", None)
    else:
        msg["feedback_error"] = error


# ------------------------------------------------------------------------------ sign-in

def read_secrets() -> dict:
    """st.secrets as a dict; {} when there is no secrets file. A file that exists but cannot be
    read is an error: the app then refuses rather than running open."""
    try:
        return st.secrets.to_dict()
    except FileNotFoundError as exc:  # Streamlit's StreamlitSecretNotFoundError
        if getattr(exc, "error_id", None) == "no-secrets-found":
            return {}
        raise SettingError(f"The secrets file cannot be used ({exc}).") from None


@st.cache_resource(show_spinner=False)
def announce(line: str) -> None:
    """Print a start-up warning or refusal on the server's console, once per process."""
    print(line, file=sys.stderr, flush=True)


def access_gate(host: str | None) -> auth.Access | None:
    """Who this visitor is and whether they may see the chat. Renders the sign-in, refusal or
    closed page and returns None when they may not; nothing about the articles is shown then."""
    try:
        config = auth.read_config(read_secrets())
    except AssistantError as exc:  # an unusable ASSISTANT_* value or secrets file
        announce(f"Refusing to serve: {exc}")
        config, access = None, auth.Access("closed", message=str(exc))
    if config is not None:
        ok, line = auth.startup_check(config, host)
        if line:
            announce(line if ok else f"Refusing to serve: {line}")
        access = auth.decide(config, st.user.to_dict() if config.configured else None, host)
    if access.kind in ("open", "allowed"):
        return access
    st.title("Article Assistant")
    if access.kind == "closed":
        st.error(ui.message_markdown(access.message))
    elif access.kind == "sign_in":
        st.markdown("Sign in with your organisation account to use the assistant.")
        wsui.remember_share_link()
        for name in config.providers:
            st.button("Sign in" if len(config.providers) == 1 else
                      f"Sign in with {name.capitalize() or 'the default provider'}",
                      key=f"login-{name}", type="primary", icon=":material/login:",
                      on_click=st.login, args=(name,) if name else ())
    else:  # refused: signed in, outside the allow-list
        if not st.session_state.get("refusal_logged"):
            st.session_state.refusal_logged = True
            log.warning("refused %s: not on the allow-list", access.user.label)
        st.error(ui.escape_markdown(access.message), icon=":material/block:")
        st.button("Sign out", key="logout", icon=":material/logout:", on_click=st.logout)
    return None


def sidebar_account(access: auth.Access) -> None:
    with st.sidebar:
        if access.user is not None:
            st.caption(f"Signed in as {ui.escape_markdown(access.user.label)}")
            st.button("Sign out", key="logout", icon=":material/logout:", on_click=st.logout,
                      width="stretch")
        else:
            st.caption("Sign-in is not configured: anyone who can open this page can use the "
                       "assistant.")


# ------------------------------------------------------------------------------ API tokens

def sidebar_api_tokens(access: auth.Access, settings: Settings) -> None:
    """Personal tokens for the HTTP API (README, HTTP API), for a signed-in user: made here,
    shown once, revoked here; an administrator (ASSISTANT_ADMINS, [assistant] admins or the
    access rules' admins) sees and revokes everyone's. The rules are in assistant/api/tokens.py;
    this only draws them."""
    if access.user is None:
        return
    from assistant.api import tokens as api_tokens
    from assistant.api.token_db import DbTokenStore
    from assistant.workspace import database_url

    user = access.user.label
    store = DbTokenStore(wsui._holder(database_url(settings)), settings.data_dir)
    state = st.session_state
    admin = bool(state.get("is_admin"))

    def create() -> None:
        try:
            state.api_token_new = store.create(user, state.get("api_token_name") or "")[0]
        except (AssistantError, OSError) as exc:
            state.api_token_error = str(exc)
        state.api_token_name = ""

    def revoke(token_id: str) -> None:
        try:
            api_tokens.revoke_as(store, token_id, user, admin)
        except KeyError:
            state.api_token_error = f"No token {token_id} of yours to revoke."
        except (AssistantError, OSError) as exc:
            state.api_token_error = str(exc)

    with st.sidebar.expander("API tokens", icon=":material/key:"):
        if error := state.pop("api_token_error", None):
            st.error(ui.message_markdown(error))
        if new := state.pop("api_token_new", None):  # shown this once: only its hash is kept
            st.success("Your new token. Copy it now: it will not be shown again.")
            st.code(new, language=None)
        st.text_input("Name", key="api_token_name", placeholder="e.g. Slack bot", max_chars=80)
        st.button("Create a token", key="api_token_create", on_click=create,
                  icon=":material/add:")
        try:
            rows = [t for t in api_tokens.visible_tokens(store, user, admin) if t.active]
        except AssistantError as exc:
            st.error(ui.message_markdown(exc))
            return
        st.caption("Everyone's active tokens (you are an admin):" if admin else
                   ("Your active tokens:" if rows else "You have no active token."))
        for t in rows:
            owner = "" if t.user == user else f" · {t.user}"
            st.caption(ui.escape_markdown(f"{t.name} · {t.id} · {t.created[:10]}{owner}"))
            st.button("Revoke", key=f"api_token_revoke_{t.id}", on_click=revoke, args=(t.id,),
                      icon=":material/block:")


# ------------------------------------------------------------------------------ article view

@st.dialog("Article", width="large")
def show_article(assistant, target: ui.Target) -> None:
    try:
        article, sections = assistant.article(target.article_id, scope=current_scope())
    except accesslib.AccessDenied as exc:
        st.error(ui.message_markdown(exc))
        return
    except KeyError:
        st.error("This article is no longer in the index (it was removed or changed since this "
                 "answer). Ask again for current sources.")
        return
    if target.label:
        st.html(f'<div class="aa-jump">Source {ui.html_text(target.label)}</div>')
    body, found = ui.article_html(article, sections, target)
    if not found:
        st.caption("The quoted words are not in the current version of this article; it may "
                   "have changed since this answer.")
    st.html(body)


# ------------------------------------------------------------------------------ pages

def no_index_page(settings: Settings, error: Exception, full: bool) -> None:
    st.title("Article Assistant")
    if not isinstance(error, IndexNotBuilt):
        st.error(ui.message_markdown(error))
    else:
        st.info("There is no index yet. The assistant answers from an index of the articles in "
                "the corpus folder; it has to be built once (and again when articles change).")
    st.markdown("Build it from a terminal in the project folder with `assistant build` "
                "(or `.venv/bin/assistant build`), or with `make run`, which builds the index and "
                "starts this app. Or build it here:")
    corpus = Path(settings.corpus_dir)
    files = service.corpus_files(corpus)[0]
    st.caption(f"{len(files)} article file(s) in {ui.escape_markdown(corpus)}")
    if not files:
        st.warning(f"Add {service.supported_formats()} articles to the corpus folder first.")
    if st.button("Build the index now", type="primary", disabled=not files, key="build_index"):
        with st.status("Building the index…", expanded=True) as box:
            bar = st.progress(0.0, text="Reading and splitting the articles…")

            def on_progress(done: int, total: int) -> None:
                bar.progress(done / total if total else 1.0,
                             text=f"Embedding passages: {done} of {total}")

            try:
                # All cores for the build; the model is let go afterwards (the assistant
                # loads its own, for questions).
                report = service.build_index(settings, full=full, on_progress=on_progress,
                                             log=st.text, embedder=service.make_embedder(settings))
            except AssistantError as exc:
                box.update(label="The build failed", state="error")
                st.error(ui.message_markdown(exc))
                return
            bar.progress(1.0, text="Done")
            box.update(label="Index built", state="complete")
        st.session_state.built = report.summary()
        st.rerun()


MAX_LISTED = 50  # matches of the article search listed at a time


def sidebar(assistant, settings: Settings) -> None:
    """Index status and search settings. Rendered on full runs only: asking a question reruns
    the chat fragment, which reads the settings from the session state."""
    st.title("Article Assistant")
    st.button("New chat", icon=":material/add_comment:", on_click=new_chat, key="new_chat",
              width="stretch")

    status = assistant.status()
    counts, model = status.counts, status.model
    st.subheader("Index")
    st.markdown(f"**{counts.get('articles', 0)}** articles · **{counts.get('sections', 0)}** "
                f"sections · **{counts.get('chunks', 0)}** chunks")
    st.caption(f"Model: {ui.escape_markdown(model.get('name', '?'))} "
               f"({model.get('dim', '?')}-d, "
               f"{ui.escape_markdown(status.precision)})  \n"
               f"Last updated: {ui.escape_markdown(freshness.built_ago(status.built_at))}")
    if status.reload_error:
        st.warning(ui.message_markdown(status.reload_error))
    try:
        digest = corpus_watch(str(settings.corpus_dir)).digest()
        reason = stale_reason(str(settings.corpus_dir), str(settings.index_dir), status.build,
                              digest)
    except OSError as exc:
        digest, reason = "", f"the corpus folder cannot be read ({exc.strerror or exc})"
    st.session_state.sidebar_shows = (status.build, digest)
    sidebar_freshness(settings, status, reason)
    skipped = status.skipped
    if skipped:
        with st.expander(f"{len(skipped)} corpus file(s) not indexed"):
            for item in skipped:
                st.text(f"{item.get('source')}: {item.get('reason')}")

    st.subheader("Search")
    scope = current_scope()
    article_filter(get_catalog(str(settings.index_dir), status.build, repr(scope), scope))
    st.slider("Number of sources (k)", 1, 10, value=default_k(settings), key="k",
              help="How many of the closest passages an answer draws on.")
    if assistant.llm_configured:
        st.toggle("Answer with the language model", value=True, key="use_llm",
                  help="The model at the configured endpoint writes the answer from the "
                       "passages; every sentence is checked against the passage it cites "
                       "and left out if unsupported. Off: sentences quoted from the "
                       "articles.")
        st.caption(f"Endpoint: {ui.escape_markdown(redact_url(settings.llm_url))}"
                   + (f" · model {ui.escape_markdown(settings.llm_model)}"
                      if settings.llm_model else "")
                   + f" · checked by {ui.VERIFY_MODE_LABELS[settings.llm_verify]}")


def default_k(settings: Settings) -> int:
    return max(1, min(10, settings.top_k))


def article_filter(catalog: ArticleCatalog) -> None:
    """Find articles by words of their title or path, narrowed by folder and date, and choose
    some: only the chosen ones are searched. Only the chosen articles and the first matches
    are sent to the page, however large the index."""
    state = st.session_state
    chosen = [i for i in state.get("filter", []) if i in catalog]
    if "filter" in state:  # forget articles a rebuild removed
        state.filter = chosen
    query = st.text_input("Find articles", key="find", placeholder="Words of a title or file name",
                          help="Lists the articles whose title or file path has all the words.")
    folder = ""
    if len(catalog.folders) > 1:
        folder = st.selectbox("Folder", ["", *catalog.folders], key="find_folder",
                              format_func=lambda f: f or "All folders")
    since = until = None
    if catalog.date_range:
        lo, hi = catalog.date_range
        picked = st.date_input("Dated between", value=(lo, hi), min_value=lo, max_value=hi,
                               key="find_dates", format="YYYY-MM-DD")
        if isinstance(picked, (tuple, list)) and len(picked) == 2 and tuple(picked) != (lo, hi):
            since, until = picked
    matches, total = catalog.search(query, folder, since, until, limit=MAX_LISTED)
    options = chosen + [i for i in matches if i not in chosen]
    st.multiselect("Only these articles", options, key="filter", format_func=catalog.label,
                   placeholder="All articles" if options else "No article matches",
                   help="Limit the search to the chosen articles. Empty: search all.")
    narrowed = bool(query.strip() or folder or since)
    if total > len(matches):
        st.caption(f"{total:,} {'matching ' if narrowed else ''}articles; the first "
                   f"{len(matches)} are listed. Type words of the title to narrow.")
    elif narrowed:
        st.caption(f"{total:,} matching article(s).")


def sidebar_download(turns: list) -> None:
    """Rendered after the question of this run is answered, so the file includes it."""
    st.subheader("Conversation")
    st.download_button("Download as Markdown", icon=":material/download:",
                       data=ui.conversation_markdown(turns) if turns else "",
                       file_name="conversation.md", mime="text/markdown",
                       disabled=not turns, on_click="ignore", key="download",
                       width="stretch")


def render_answer(msg: dict) -> None:
    answer = readable_answer(msg["answer"], current_scope())  # the rule as it is now
    mid = msg["id"]
    if answer.notice:
        st.info(ui.message_markdown(answer.notice))
    if answer.abstained and not answer.passages and answer.notice:
        return  # nothing was asked (an empty question, ...)
    if answer.abstained:
        st.warning(ui.escape_markdown(answer.text), icon=":material/search_off:")
        if answer.passages:
            st.markdown("**Closest passages**")
        for i, p in enumerate(answer.passages, start=1):
            st.html(ui.passage_html(p, i))
            st.button("Open in the article", key=f"open-{mid}-p{i}", type="tertiary",
                      icon=":material/article:", on_click=open_article,
                      args=(ui.Target.of_passage(p),))
    else:
        if answer.tier == "possible":
            st.warning(ui.escape_markdown(service.POSSIBLE_LABEL), icon=":material/help:")
        st.html(ui.answer_html(answer, f"aa-{mid}"))
        st.markdown("**Sources**")
        for c in answer.citations:
            st.html(ui.source_html(c, f"aa-{mid}"))
            st.button(f"Open [{c.n}] in the article", key=f"open-{mid}-{c.n}", type="tertiary",
                      icon=":material/article:", on_click=open_article,
                      args=(ui.Target.of_citation(c),))
    notes = []
    if msg.get("filtered"):
        notes.append(f"searched {msg['filtered']} chosen article(s)")
    if answer.mode == "llm" and answer.abstained:  # the model read the passages and declined
        model = (answer.llm or {}).get("model") or "the language model"
        notes.append(f"read by {ui.escape_markdown(model)}")
    elif answer.mode == "llm":
        model = (answer.llm or {}).get("model") or "the language model"
        notes.append(f"written by {ui.escape_markdown(model)}, "
                     "every sentence checked against the passage it cites")
    elif not answer.abstained:
        notes.append(f"confidence {answer.confidence:.0%}"
                     + (" · may answer" if answer.tier == "possible" else ""))
    if notes:
        st.caption(" · ".join(notes))
    st.feedback("thumbs", key=f"fb-{mid}", on_change=record_feedback, args=(mid,))
    if msg.get("feedback"):
        st.caption("Thanks, your feedback was saved.")
    if msg.get("feedback") == "down" and msg.get("feedback_id"):
        what_was_wrong(msg)
    if msg.get("feedback_error"):
        st.error(msg["feedback_error"])
    wsui.answer_actions(msg)


def save_detail(msg_id: str) -> None:
    """The optional "What was wrong?" of a thumbs-down, appended to the feedback log."""
    state = st.session_state
    msg = next((m for m in state.get("messages", []) if m.get("id") == msg_id), None)
    if msg is None or not msg.get("feedback_id"):
        return
    source = ""
    picked = state.get(f"why-article-{msg_id}")
    if picked:
        try:
            source = get_assistant(str(Settings().index_dir)).article(
                picked, scope=current_scope())[0].source
        except (KeyError, accesslib.AccessDenied):
            source = ""
    error = wsui.save_feedback(msg, review.detail_record(
        msg["feedback_id"], state.get(f"why-{msg_id}") or (),
        state.get(f"why-text-{msg_id}") or "", source, user=state.get("signed_in_as")))
    if error is None:
        msg["detail_saved"] = True
    else:
        msg["feedback_error"] = error


def what_was_wrong(msg: dict) -> None:
    mid = msg["id"]
    if msg.get("detail_saved"):
        st.caption("Noted what was wrong: thank you.")
        return
    with st.expander("What was wrong? (optional)"):
        st.multiselect("What was wrong?", list(review.REASONS), key=f"why-{mid}",
                       format_func=lambda r: review.REASONS[r])
        st.text_area("Tell us more (optional)", key=f"why-text-{mid}")
        try:
            assistant = get_assistant(str(Settings().index_dir))
            scope = current_scope()
            catalog = get_catalog(str(Settings().index_dir), assistant.build_name, repr(scope),
                                  scope)
        except AssistantError:
            catalog = None
        if catalog is not None:
            words = st.text_input("Find the article that has the answer", key=f"why-find-{mid}",
                                  placeholder="Words of its title or file name")
            matches, _ = catalog.search(words, limit=MAX_LISTED)
            st.selectbox("The article with the answer", ["", *matches], key=f"why-article-{mid}",
                         format_func=lambda i: catalog.label(i) if i else "(not picked)")
        st.button("Send", key=f"why-send-{mid}", on_click=save_detail, args=(mid,))


def render_message(msg: dict) -> None:
    with st.chat_message(msg["role"]):
        if msg["role"] == "user":
            st.markdown(ui.escape_markdown(msg["content"]))
        elif "error" in msg:
            st.error(msg["error"])
        else:
            render_answer(msg)


def ask(assistant, question: str, sources: list[str] | None, k: int) -> dict:
    messages = st.session_state.messages
    # The questions before (a follow-up reads the last one; feedback keeps a few): bounded.
    history = [m["content"] for m in messages if m["role"] == "user"][-feedback.FEEDBACK_HISTORY:]
    messages.append({"role": "user", "content": question})
    render_message(messages[-1])
    msg: dict = {"role": "assistant", "id": uuid.uuid4().hex[:10], "question": question,
                 "history": history, "filtered": len(sources) if sources else 0}
    with st.chat_message("assistant"):
        use_llm = bool(assistant.llm_configured and st.session_state.get("use_llm", True))
        try:
            with st.spinner("Searching the articles…" if not use_llm else
                            "Reading the passages and checking every sentence…"):
                live = st.empty()

                def on_text(verified: str) -> None:
                    # Only sentences that passed verification are ever shown.
                    live.markdown(ui.escape_markdown(verified))

                msg["answer"] = assistant.ask(question, history=history, k=k, sources=sources,
                                              llm=use_llm, on_text=on_text if use_llm else None,
                                              scope=current_scope())
                live.empty()
        except AssistantError as exc:
            msg["error"] = ui.message_markdown(exc)
        except Exception as exc:  # noqa: BLE001 - one line for the user, details in the log
            log.exception("answering %r for %s failed", question,
                          st.session_state.get("signed_in_as") or "an open session")
            msg["error"] = ui.escape_markdown(f"Something went wrong while answering "
                                              f"({type(exc).__name__}: {exc}).")
        messages.append(msg)
        if "error" not in msg:
            wsui.save_answer(msg)
        if "error" in msg:
            st.error(msg["error"])
        else:
            render_answer(msg)
    return msg


@st.fragment
def chat(settings: Settings, side: st.delta_generator.DeltaGenerator):
    """The conversation. A fragment: asking a question, opening a source or rating an answer
    reruns only this, not the sidebar. The input comes before the (first, slow) model load, so
    people can type meanwhile."""
    state = st.session_state
    with st.bottom:
        # The default submit mode: a question typed during a run waits its turn (a fragment's
        # widget does not interrupt the run). With submit_mode="disable" the input stayed
        # disabled for good when the chat fragment's run ended in a whole-page rerun (the input
        # waits for its own fragment run to finish): 20-session load test, 2 browsers.
        question = st.chat_input("Ask a question about the articles", key="question")
    try:
        assistant = get_assistant(str(settings.index_dir))
    except AssistantError as exc:
        st.error(ui.message_markdown(exc))
        return
    wsui.notices()
    sources = state.get("filter") or None
    if sources:
        st.caption(f"Searching {len(sources)} chosen article(s) only (see the sidebar).")
    for msg in state.messages:
        render_message(msg)
    if question is not None:
        ask(assistant, question, sources, int(state.get("k", default_k(settings))))
    with side:
        wsui.sidebar_conversations()
        scope = current_scope()  # the export applies the rule as it is now
        sidebar_download([(m["question"], readable_answer(m["answer"], scope))
                          for m in state.messages if "answer" in m])
    target = state.pop("open_target", None)
    if target is not None:
        show_article(assistant, target)
    elif not state.get("full_run") and sidebar_outdated(assistant, settings):
        st.rerun()  # the whole page, once: the sidebar shows the new build or the stale warning


def share_view(settings: Settings, access: auth.Access) -> None:
    """?share=<token>: the read-only shared answer (after the sign-in gate)."""
    try:
        assistant = get_assistant(str(settings.index_dir))
    except AssistantError:
        assistant = None  # the snapshot is still shown, without the article viewer
    wsui.share_page(st.query_params.get("share", ""), assistant, open_article, current_scope())
    target = st.session_state.pop("open_target", None)
    if target is not None and assistant is not None:
        show_article(assistant, target)
    sidebar_account(access)


def sidebar_outdated(assistant, settings: Settings) -> bool:
    """Whether a rebuild or a corpus change happened since the sidebar was drawn (a fragment
    run does not redraw it). Cheap: the build name and the shared corpus watch's folder stats."""
    try:
        digest = corpus_watch(str(settings.corpus_dir)).digest()
    except OSError:
        digest = ""
    return st.session_state.get("sidebar_shows") not in (None, (assistant.build_name, digest))


# ------------------------------------------------------------------------------ freshness

@st.cache_resource(show_spinner=False, max_entries=4)
def update_now(corpus_dir: str, index_dir: str) -> freshness.UpdateNow:
    """One background *Update now* build per process, whichever session pressed it."""
    return freshness.UpdateNow(Settings().replace(corpus_dir=Path(corpus_dir),
                                                  index_dir=Path(index_dir)))


def freshness_key(settings: Settings) -> tuple:
    """What the freshness lines depend on besides the build and the corpus: the watcher's state
    and whether an *Update now* build runs."""
    watch = freshness.read_status(settings.index_dir)
    updater = update_now(str(settings.corpus_dir), str(settings.index_dir))
    return (watch.state if watch else None, watch.running if watch else False,
            updater.state.running, updater.state.finished_at)


def sidebar_freshness(settings: Settings, status, reason: str | None) -> None:
    """The stale warning, or "Updating…" while the watcher or an *Update now* build brings the
    index up to date; the watcher's state; the *Update now* button for administrators."""
    state = st.session_state
    watch = freshness.read_status(settings.index_dir)
    updater = update_now(str(settings.corpus_dir), str(settings.index_dir))
    busy = updater.state.running or (watch is not None and watch.updating)
    if watch is not None and watch.running and watch.state == "failed":
        st.warning(ui.message_markdown(freshness.watch_line(watch)))
    if reason and busy:
        st.info("Updating… " + ui.escape_markdown(reason) + ". The page follows by itself.",
                icon=":material/sync:")
    elif reason:
        st.warning("The index is out of date: " + ui.escape_markdown(reason) + ". Answers do "
                   "not include these changes until the index is rebuilt:")
        st.code("assistant build      # or: make run, or assistant watch", language=None)
    if watch is not None and watch.running and watch.state != "failed":
        st.caption(ui.escape_markdown(freshness.watch_line(watch).capitalize()))
    if updater.state.error:
        st.error(ui.message_markdown("The last update failed: " + updater.state.error))
    if state.get("may_update") and (reason or updater.state.running):
        st.button("Update now", icon=":material/sync:", key="update_now",
                  disabled=updater.state.running, on_click=updater.start,
                  help="Runs the incremental build in the background (files that did not change "
                       "are reused); the page shows the new index when it is done.")
    state.freshness_shows = freshness_key(settings)


@st.fragment(run_every=freshness.refresh_seconds())
def follow_index(settings: Settings) -> None:
    """Reruns the whole page when the build, the corpus or the watcher's state changed since it
    was drawn: with the watcher on, new articles appear without anyone pressing a button."""
    try:
        assistant = get_assistant(str(settings.index_dir))
    except AssistantError:
        return
    outdated = sidebar_outdated(assistant, settings)
    key = freshness_key(settings)
    if not outdated and st.session_state.get("freshness_shows") == key:
        return
    # Once per change, not every tick: a whole-page rerun interrupts a question being answered
    # in this session (its run restarts without the question), so a state the page cannot
    # leave (a sidebar that stays outdated) must not rerun it every few seconds.
    seen = (assistant.build_name, outdated, key)
    if st.session_state.get("followed") == seen:
        return
    st.session_state["followed"] = seen
    st.rerun(scope="app")


@st.fragment(run_every=freshness.refresh_seconds())
def follow_first_build(settings: Settings) -> None:
    """On the no-index page: opens the chat once a build (the watcher's, another session's, or
    `assistant build`) has made the index usable."""
    if service.index_state(settings, corpus=False).usable:
        st.rerun(scope="app")


def main() -> None:
    try:
        settings = Settings()
    except AssistantError as exc:  # a bad ASSISTANT_* value: one line, no traceback
        st.error(ui.message_markdown(exc))
        return
    state = st.session_state
    # Sign-in first: a visitor who may not use the app sees no article, count or input.
    access = access_gate(st.get_option("server.address"))
    if access is None:
        return
    state.signed_in_as = access.user.label if access.user else None
    state.may_update = freshness.may_update(access, read_secrets())
    state.reader = (accesslib.Reader.of(access.user.email, access.user.groups)
                    if access.user else None)
    # One list of administrators: ASSISTANT_ADMINS, [assistant] admins, the access rules' admins.
    state.admins = auth.named_admins(read_secrets())
    is_admin = state.is_admin = accesslib.is_admin(state.reader, admins=state.admins)
    def chat_run() -> None:
        chat_page(settings, access)

    def review_run() -> None:
        app_review.review_page(settings, is_admin)

    pages = [st.Page(chat_run, title="Chat", icon=":material/chat:", default=True)]
    # The review page is listed for administrators only; anyone else who opens its URL gets
    # the refusal page (not listed either), never the feedback.
    pages.append(st.Page(review_run,
                         title="Feedback review", icon=":material/rate_review:",
                         url_path="feedback-review",
                         visibility="visible" if is_admin else "hidden"))
    st.navigation(pages).run()


def chat_page(settings: Settings, access: auth.Access) -> None:
    state = st.session_state
    state.setdefault("messages", [])
    scope = current_scope()
    if scope is not None and scope.problem:
        st.error(ui.message_markdown(scope.problem))
    st.html(CSS)
    if access.kind == "allowed":
        wsui.resume_share_link()
    if "share" in st.query_params:
        share_view(settings, access)
        return
    wsui.open_from_url()
    # The cheap checks (a current build whose manifest fits this program) before the slow
    # load, so a missing or unusable index gets its page at once.
    index = service.index_state(settings, corpus=False)
    if not index.usable:
        # An index of the previous format is updated (its vectors reused), others rebuilt.
        no_index_page(settings, index.problem, full=getattr(index.problem, "full", False))
        sidebar_account(access)
        follow_first_build(settings)
        return

    st.title("Article Assistant")
    st.caption("Ask about the articles. Answers are sentences quoted from them"
               + (" or, with the language model on, written from them and checked sentence by "
                  "sentence against the passage each cites" if settings.llm_url else "")
               + "; each [n] marker links to its source below the answer.")
    if "built" in state:
        st.success(ui.message_markdown("Index " + state.pop("built")))
    with st.sidebar:
        top, conversation = st.container(), st.container()
    state.full_run = True  # the chat fragment runs inside this run: the sidebar follows
    chat(settings, conversation)
    try:
        assistant = get_assistant(str(settings.index_dir))
    except AssistantError:
        assistant = None  # the chat shows the error
    if assistant is not None:
        with top:
            sidebar(assistant, settings)
        follow_index(settings)
    sidebar_account(access)
    sidebar_api_tokens(access, settings)
    state.full_run = False


main()
