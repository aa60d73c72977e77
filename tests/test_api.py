"""The HTTP API end to end: `assistant serve` in a subprocess on a port bound to 0, the real
model, the real `openai` client, tokens made and revoked with `assistant token`. Variants that
need other settings (rate limits, open mode, an LLM endpoint, a corpus that changes) run a real
uvicorn server in this process over the tests' shared model."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

pytest.importorskip("fastapi", reason="the API needs the `api` extra")
import openai  # a test dependency: never skipped

from assistant.api.app import create_app  # noqa: E402
from assistant.api.settings import ApiSettings  # noqa: E402
from assistant.api.token_db import DbTokenStore  # noqa: E402
from assistant.service import Assistant  # noqa: E402
from devtools.api_server import REPO, ServeProcess, ThreadedApi  # noqa: E402
from devtools.ui_samples import HOSTILE_SOURCE  # noqa: E402

QUESTION = "Who will lead the coordinated efforts?"
DEA = "Drug Enforcement Administration"
OFF_CORPUS = "How do I bake sourdough bread?"
FIRST, FOLLOW, FOLLOW_PHRASE = ("What joint operations did Mexico and the US announce?",
                                "Who will lead them?", DEA)
MODEL = "article-assistant"


pytestmark = pytest.mark.heavy  # servers, subprocesses, the real model or AppTest: not in make test-fast


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=600,
                          env={**__import__("os").environ, "PYTHONPATH": str(REPO)})


class Served:
    def __init__(self, server: ServeProcess, data: Path, work: Path, index: Path):
        self.server, self.data, self.work, self.index = server, data, work, index
        self.url, self.base_url = server.url, server.base_url

    def token(self, user: str = "alice@example.org", name: str = "tests") -> dict:
        done = cli("token", "create", "--user", user, "--name", name, "--data", str(self.data),
                   "--json", "--secrets", str(self.work / "none.toml"), cwd=self.work)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def client(self, token: str, **kwargs) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.base_url, api_key=token, max_retries=0,
                             timeout=120, **kwargs)


@pytest.fixture(scope="module")
def served(app_index, tmp_path_factory):
    work = tmp_path_factory.mktemp("api-served")
    data = work / "data"
    with ServeProcess("--index", str(app_index.index), "--corpus", str(app_index.corpus),
                      "--data", str(data), "--secrets", str(work / "none.toml"),
                      "--log-level", "warning", cwd=work,
                      env={"ASSISTANT_API_RATE": "0"}) as server:  # limits: in-process tests
        yield Served(server, data, work, app_index.index)


@pytest.fixture(scope="module")
def alice(served) -> dict:
    return served.token()


def post(served, path: str, token: str | None, headers: dict | None = None,
         **kwargs) -> httpx.Response:
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(served.url + path, headers={**auth, **(headers or {})}, timeout=120,
                      **kwargs)


def one_line_error(r: httpx.Response) -> str:
    message = r.json()["error"]["message"]
    assert message and "\n" not in message
    return message


# ------------------------------------------------------------------------------ /v1/ask

def test_docs_and_openapi_need_no_token(served):
    assert httpx.get(served.url + "/docs", timeout=30).status_code == 200
    paths = httpx.get(served.url + "/openapi.json", timeout=30).json()["paths"]
    assert {"/v1/ask", "/v1/chat/completions", "/v1/models", "/v1/status"} <= set(paths)


@pytest.mark.parametrize("question", [QUESTION, OFF_CORPUS])
def test_ask_contract_equals_the_cli_json(served, alice, question):
    done = cli("ask", "--json", "--no-llm", "--index", str(served.index), question,
               cwd=served.work)
    assert done.returncode == 0, done.stderr
    expected = json.loads(done.stdout)
    r = post(served, "/v1/ask", alice["token"], json={"question": question})
    assert r.status_code == 200, r.text
    got = r.json()
    assert list(got) == list(expected)  # the same fields, in the same order
    assert got["timings_ms"].keys() == expected["timings_ms"].keys()
    got.pop("timings_ms"), expected.pop("timings_ms")
    assert _same(got, expected)
    if question == QUESTION:
        assert got["tier"] == "answer" and DEA in got["answer"] and got["citations"]
    else:
        assert got["abstained"] and not got["citations"] and got["closest"]


def _same(a, b) -> bool:
    """Equal, floats (confidence, scores; the CLI encodes on all cores, the server on one)
    within rounding."""
    if isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, abs=2e-3)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    else:
        assert a == b
    return True


def test_article_for_a_citation_link(served, alice):
    c = post(served, "/v1/ask", alice["token"], json={"question": QUESTION}).json()["citations"][0]
    headers = {"Authorization": f"Bearer {alice['token']}"}
    r = httpx.get(f"{served.url}/v1/articles/{c['source']}", headers=headers, timeout=30)
    assert r.status_code == 200
    art = r.json()
    assert art["title"] == c["article"] and art["source"] == c["source"]
    cited = [s for s in art["sections"] if s["section"] == c["section"]]
    assert cited and any(c["quote"] in s["text"] for s in cited)
    by_id = httpx.get(f"{served.url}/v1/articles/{art['id']}", headers=headers, timeout=30)
    assert by_id.json() == art
    missing = httpx.get(f"{served.url}/v1/articles/nope.txt", headers=headers, timeout=30)
    assert missing.status_code == 404 and "nope.txt" in one_line_error(missing)


def test_status(served, alice):
    r = httpx.get(served.url + "/v1/status", timeout=30,
                  headers={"Authorization": f"Bearer {alice['token']}"})
    s = r.json()
    assert r.status_code == 200 and s["build"] and s["counts"]["articles"] == 2
    assert s["stale"] is None and s["skipped"] == [] and s["llm"] is False
    assert s["api"]["you"] == {"user": "alice@example.org", "token": alice["id"], "admin": False}


# ------------------------------------------------------------------------------ OpenAI face

def test_models_name_the_article_assistant(served, alice):
    assert [m.id for m in served.client(alice["token"]).models.list()] == [MODEL]


def test_openai_client_non_streaming_carries_answer_and_sources(served, alice):
    r = served.client(alice["token"]).chat.completions.create(
        model=MODEL, messages=[{"role": "system", "content": "Answer in French."},
                               {"role": "user", "content": QUESTION}])
    content = r.choices[0].message.content
    extra = r.model_extra["article_assistant"]
    assert r.choices[0].finish_reason == "stop" and r.model == MODEL
    assert extra["tier"] == "answer" and extra["citations"]
    c = extra["citations"][0]
    body, sources = content.split("**Sources**")
    assert DEA in body and "\\[1\\]" in body
    assert "Details of the Joint Operations" in sources and c["quote"][:60] in sources
    # The same answer as /v1/ask gives (system messages change nothing).
    ask = post(served, "/v1/ask", alice["token"], json={"question": QUESTION}).json()
    assert extra["citations"] == ask["citations"] and extra["answer"] == ask["answer"]


def test_openai_client_streaming_carries_answer_and_sources(served, alice):
    client = served.client(alice["token"])
    chunks = list(client.chat.completions.create(
        model=MODEL, stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": QUESTION}]))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    final = [ch for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    assert len(final) == 1 and final[0].choices[0].finish_reason == "stop"
    assert len([ch for ch in chunks if ch.choices and ch.choices[0].delta.content]) > 2
    extra = final[0].model_extra["article_assistant"]
    assert extra["citations"] and DEA in extra["answer"]
    assert chunks[-1].usage.completion_tokens > 0 and not chunks[-1].choices
    whole = client.chat.completions.create(model=MODEL,
                                           messages=[{"role": "user", "content": QUESTION}])
    assert text == whole.choices[0].message.content  # streamed or not, the same reply


def test_follow_up_through_messages(served, alice):
    client = served.client(alice["token"])
    first = client.chat.completions.create(model=MODEL,
                                           messages=[{"role": "user", "content": FIRST}])
    follow = client.chat.completions.create(model=MODEL, messages=[
        {"role": "user", "content": FIRST},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": [{"type": "text", "text": FOLLOW}]}])
    answer = follow.model_extra["article_assistant"]
    assert FOLLOW_PHRASE in answer["answer"] and not answer["abstained"]
    # The same as /v1/ask with the question as history, and not what it gives alone (read
    # with the question before it, its sentences are judged in that context).
    ask = post(served, "/v1/ask", alice["token"],
               json={"question": FOLLOW, "history": [FIRST]}).json()
    assert (ask["answer"], ask["confidence"]) == (answer["answer"], answer["confidence"])
    alone = post(served, "/v1/ask", alice["token"], json={"question": FOLLOW}).json()
    assert (alone["answer"], alone["confidence"]) != (answer["answer"], answer["confidence"])


def test_hostile_article_reaches_chat_clients_as_text(served, alice):
    from markdown_it import MarkdownIt

    r = served.client(alice["token"]).chat.completions.create(
        model=MODEL, messages=[{"role": "user",
                                "content": "What was found in the zephyrine manual?"}])
    extra = r.model_extra["article_assistant"]
    assert any(c["source"] == HOSTILE_SOURCE for c in extra["citations"] + extra["closest"])
    html = MarkdownIt("commonmark", {"linkify": True}).enable(["linkify"]).render(
        r.choices[0].message.content)
    assert "zephyrine" in html
    for bad in ("<script", "<img", "<a ", "<h1"):
        assert bad not in html


# ------------------------------------------------------------------------------ tokens

def test_token_missing_bad_and_revoked_get_401(served):
    mine = served.token(name="to revoke")
    assert post(served, "/v1/ask", mine["token"], json={"question": QUESTION}).status_code == 200
    for token, words in [(None, "No API token"), ("aat_" + "x" * 43, "Unknown API token"),
                         ("not-even-a-token", "Unknown API token")]:
        r = post(served, "/v1/ask", token, json={"question": QUESTION})
        assert r.status_code == 401 and words in one_line_error(r)
        assert r.headers["www-authenticate"] == "Bearer"
    done = cli("token", "revoke", mine["id"], "--data", str(served.data), cwd=served.work)
    assert done.returncode == 0, done.stderr
    r = post(served, "/v1/ask", mine["token"], json={"question": QUESTION})
    assert r.status_code == 401 and "revoked" in one_line_error(r)
    with pytest.raises(openai.AuthenticationError, match="revoked"):
        served.client(mine["token"]).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": QUESTION}])
    listed = json.loads(cli("token", "list", "--json", "--data", str(served.data),
                            cwd=served.work).stdout)
    assert next(t for t in listed if t["id"] == mine["id"])["revoked"]
    assert all("hash" not in t for t in listed)


# ------------------------------------------------------------------------------ 422

LONG = "why " * 600  # 2,400 characters
CASES_422 = [
    ("/v1/ask", b'{"question": "Who', "not valid JSON"),
    ("/v1/ask", {}, "question: required"),
    ("/v1/ask", {"question": 42}, "question"),
    ("/v1/ask", {"question": LONG}, "the limit is 2,000"),
    ("/v1/ask", {"question": QUESTION, "history": ["earlier?"] * 101}, "the limit is 100"),
    ("/v1/ask", {"question": QUESTION, "history": ["x" * 60_000] * 2}, "100,000"),
    ("/v1/ask", {"question": QUESTION, "k": 0}, "k:"),
    ("/v1/ask", {"question": QUESTION, "qestion": "typo"}, "qestion"),
    ("/v1/chat/completions", {"model": MODEL, "messages": []}, "messages"),
    ("/v1/chat/completions", {"model": MODEL}, "messages: required"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": LONG}]},
     "the limit is 2,000"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": QUESTION},
                                           {"role": "assistant", "content": "Hi"}]},
     "last message must be the user's"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x" * 1500}] * 80
                              + [{"role": "user", "content": QUESTION}]}, "100,000"),
]


@pytest.mark.parametrize("path, body, words", CASES_422)
def test_bad_requests_get_422_with_one_line(served, alice, path, body, words):
    kwargs = {"content": body, "headers": {"Content-Type": "application/json"}} \
        if isinstance(body, bytes) else {"json": body}
    r = post(served, path, alice["token"], **kwargs)
    assert r.status_code == 422, r.text
    assert words in one_line_error(r)


def test_a_body_over_a_megabyte_is_refused(served, alice):
    r = post(served, "/v1/ask", alice["token"], content=b"x" * 1_100_000,
             headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "limit" in one_line_error(r)


# ------------------------------------------------------------------------------ concurrency

def test_concurrent_requests_get_their_own_answers(served, alice):
    questions = [QUESTION, FIRST, OFF_CORPUS, "How many drug overdose deaths were recorded?"]
    alone = {q: post(served, "/v1/ask", alice["token"], json={"question": q}).json()["answer"]
             for q in questions}

    def one(i: int) -> tuple[str, str]:
        q = questions[i % len(questions)]
        if i % 3:
            r = post(served, "/v1/ask", alice["token"], json={"question": q})
            return q, r.json()["answer"]
        r = served.client(alice["token"]).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": q}], stream=i % 2 == 0)
        if i % 2 == 0:
            extra = [ch.model_extra.get("article_assistant") for ch in r]
            return q, next(e for e in extra if e)["answer"]
        return q, r.model_extra["article_assistant"]["answer"]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(24)))
    assert all(alone[q] == a for q, a in results)


def test_a_client_leaving_mid_stream_costs_nothing(served, alice):
    headers = {"Authorization": f"Bearer {alice['token']}"}
    body = {"model": MODEL, "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    for _ in range(3):
        with httpx.stream("POST", served.url + "/v1/chat/completions", json=body,
                          headers=headers, timeout=60) as r:
            assert r.status_code == 200
            first = next(r.iter_lines())
            assert first.startswith("data: ")  # then the client goes away
    status = httpx.get(served.url + "/v1/status", headers=headers, timeout=30).json()
    assert status["api"]["requests"]["failed"] == 0
    assert post(served, "/v1/ask", alice["token"], json={"question": QUESTION}).status_code == 200
    assert not any("Traceback" in line for line in served.server.output)


# ------------------------------------------------------------------------------ in-process variants

@pytest.fixture
def in_process(app_index, embedder, tmp_path):
    """(start(api_settings, **settings) -> ThreadedApi, token store)."""
    store = DbTokenStore.in_data_dir(tmp_path / "api-data")
    servers = []

    def start(api: ApiSettings, settings=None, allow=None) -> ThreadedApi:
        assistant = Assistant.open(settings=settings or app_index.settings(), embedder=embedder)
        server = ThreadedApi(create_app(assistant, store, api, allow)).__enter__()
        servers.append(server)
        return server

    yield start, store
    for s in servers:
        s.__exit__()


def test_over_the_rate_limit_gets_429_with_retry_after(in_process):
    start, store = in_process
    server = start(ApiSettings(rate_per_minute=2, burst=2))
    (a, _), (b, _) = store.create("a@x.org", "a"), store.create("b@x.org", "b")
    headers = {"Authorization": f"Bearer {a}"}
    ok = [httpx.post(server.url + "/v1/ask", json={"question": QUESTION}, headers=headers,
                     timeout=60).status_code for _ in range(2)]
    over = httpx.post(server.url + "/v1/ask", json={"question": QUESTION}, headers=headers,
                      timeout=60)
    assert ok == [200, 200] and over.status_code == 429
    assert 1 <= int(over.headers["retry-after"]) <= 30
    assert "Rate limit" in over.json()["error"]["message"]
    client = openai.OpenAI(base_url=server.base_url, api_key=a, max_retries=0)
    with pytest.raises(openai.RateLimitError):
        client.models.list()
    other = openai.OpenAI(base_url=server.base_url, api_key=b, max_retries=0)
    assert [m.id for m in other.models.list()] == [MODEL]  # another token has its own bucket


def test_a_token_acts_as_its_user_on_the_allow_list(in_process):
    from assistant.ui.auth import parse_allow_list

    start, store = in_process
    server = start(ApiSettings(), allow=parse_allow_list("@example.org", "test"))
    inside, _ = store.create("bob@example.org", "b")
    outside, _ = store.create("mallory@elsewhere.com", "m")
    ok = httpx.post(server.url + "/v1/ask", json={"question": QUESTION}, timeout=60,
                    headers={"Authorization": f"Bearer {inside}"})
    refused = httpx.post(server.url + "/v1/ask", json={"question": QUESTION}, timeout=60,
                         headers={"Authorization": f"Bearer {outside}"})
    assert ok.status_code == 200
    assert refused.status_code == 403 and "allow-list" in refused.json()["error"]["message"]


def test_open_mode_lets_local_scripts_in_without_a_token(in_process):
    start, _ = in_process
    server = start(ApiSettings(open_loopback=True))
    r = httpx.post(server.url + "/v1/ask", json={"question": QUESTION}, timeout=60)
    assert r.status_code == 200 and DEA in r.json()["answer"]
    client = openai.OpenAI(base_url=server.base_url, api_key="local", max_retries=0)
    assert DEA in client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": QUESTION}]).choices[0].message.content
    proxied = httpx.post(server.url + "/v1/ask", json={"question": QUESTION}, timeout=60,
                         headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 401


def test_llm_reader_through_the_api_and_a_client_that_leaves(in_process, app_index):
    from devtools.llm_servers import Reply, ScriptedServer, prompt_passages

    calls = []

    def script(body: dict) -> Reply:
        calls.append(body)
        n = next((k for k, t in prompt_passages(body).items() if DEA in t), 1)
        sentence = (f"The U.S. Drug Enforcement Administration and Mexico's Federal Police will "
                    f"lead the coordinated efforts [{n}]. ")
        if len(calls) < 2:  # /v1/ask with llm: true; then the chat the client leaves
            return Reply(sentence * 2)
        return Reply(sentence * 30, piece_chars=12, delay=0.1)  # the one the client leaves

    start, store = in_process
    with ScriptedServer(script) as llm:
        settings = app_index.settings().replace(llm_url=llm.base_url, llm_model="scripted",
                                                llm_timeout=30.0)
        server = start(ApiSettings(rate_per_minute=0), settings)  # the status is polled below
        token, _ = store.create("a@x.org", "a")
        headers = {"Authorization": f"Bearer {token}"}
        r = httpx.post(server.url + "/v1/ask", json={"question": QUESTION, "llm": True},
                       headers=headers, timeout=120).json()
        assert r["mode"] == "llm" and r["citations"] and DEA in r["answer"], r
        assert r["llm"]["fallback"] is None, r
        no_llm = httpx.post(server.url + "/v1/ask", json={"question": QUESTION, "llm": False},
                            headers=headers, timeout=120).json()
        assert no_llm["mode"] == "extractive"
        # A client that leaves while the model is still writing: the reading stops.
        body = {"model": MODEL, "stream": True,
                "messages": [{"role": "user", "content": QUESTION}]}
        with httpx.stream("POST", server.url + "/v1/chat/completions", json=body,
                          headers=headers, timeout=60) as resp:
            assert next(resp.iter_lines()).startswith("data: ")
        # Wait on the outcome (the request counted as cancelled, nothing left running), not on
        # a duration: whether the server noticed before or during the reading depends on load.
        done = threading.Event()
        for _ in range(600):
            status = httpx.get(server.url + "/v1/status", headers=headers, timeout=30).json()
            counts = status["api"]["requests"]
            if counts["cancelled"] == 1 and counts["in_flight"] == 0:
                done.set()
                break
            threading.Event().wait(0.1)
        assert done.is_set(), (status["api"], len(calls))
        assert status["api"]["requests"]["answered"] == 2 and not llm.errors, (status, llm.errors)
        assert len(calls) <= 2  # the reading the client left was never asked again


def test_llm_true_without_an_endpoint_is_one_line(in_process):
    start, store = in_process
    server = start(ApiSettings())
    token, _ = store.create("a@x.org", "a")
    r = httpx.post(server.url + "/v1/ask", json={"question": QUESTION, "llm": True},
                   headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert r.status_code == 400 and "ASSISTANT_LLM_URL" in r.json()["error"]["message"]
    streamed = httpx.post(server.url + "/v1/chat/completions", timeout=60,
                          headers={"Authorization": f"Bearer {token}"},
                          json={"messages": [{"role": "user", "content": QUESTION}],
                                "stream": True, "llm": True})
    assert streamed.status_code == 400  # refused before the stream starts


def test_the_api_follows_rebuilds(in_process, embedder, tmp_path, seed_path):
    from assistant.config import Settings
    from assistant.index.builder import build

    corpus, index = tmp_path / "corpus2", tmp_path / "index2"
    corpus.mkdir()
    (corpus / seed_path.name).write_bytes(seed_path.read_bytes())
    settings = Settings().replace(corpus_dir=corpus, index_dir=index)
    build(settings, embedder=embedder, log=lambda m: None, progress=False)
    start, store = in_process
    server = start(ApiSettings(), settings)
    token, _ = store.create("a@x.org", "a")
    headers = {"Authorization": f"Bearer {token}"}
    question = "What colour is the quokka lighthouse?"
    before = httpx.post(server.url + "/v1/ask", json={"question": question}, headers=headers,
                        timeout=60).json()
    assert "turquoise" not in before["answer"]
    (corpus / "lighthouse.txt").write_text(
        "The Quokka Lighthouse\nThe quokka lighthouse is painted turquoise and stands on the "
        "north cape of the island.\n", encoding="utf-8")
    build(settings, embedder=embedder, log=lambda m: None, progress=False)
    after = httpx.post(server.url + "/v1/ask", json={"question": question}, headers=headers,
                       timeout=60).json()
    assert "turquoise" in after["answer"] and after["citations"][0]["source"] == "lighthouse.txt"


def test_a_token_gets_nothing_from_a_collection_its_user_may_not_read(in_process, embedder,
                                                                       tmp_path, monkeypatch):
    from assistant.config import Settings
    from assistant.index.builder import build

    corpus, index = tmp_path / "corpus3", tmp_path / "index3"
    (corpus / "public").mkdir(parents=True)
    (corpus / "hr").mkdir()
    (corpus / "public" / "canteen.txt").write_text(
        "Canteen News\nThe canteen serves soup on Mondays.\n", encoding="utf-8")
    (corpus / "hr" / "salaries.txt").write_text(
        "Salary Review\nThe chief editor's salary rises to 250,000 euros next year.\n",
        encoding="utf-8")
    access = tmp_path / "access.toml"
    access.write_text('default = "deny"\n[collections.public]\ndomains = ["x.org"]\n'
                      '[collections.hr]\nusers = ["hr@x.org"]\n', encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_ACCESS", str(access))
    settings = Settings().replace(corpus_dir=corpus, index_dir=index)
    build(settings, embedder=embedder, log=lambda m: None, progress=False)
    start, store = in_process
    server = start(ApiSettings(), settings)
    token, _ = store.create("reporter@x.org", "b")
    headers = {"Authorization": f"Bearer {token}"}
    r = httpx.post(server.url + "/v1/ask", headers=headers, timeout=60,
                   json={"question": "How much does the chief editor earn?"}).json()
    shown = json.dumps(r)
    assert "250,000" not in shown and "salaries.txt" not in shown
    art = httpx.get(server.url + "/v1/articles/hr/salaries.txt", headers=headers, timeout=60)
    assert art.status_code == 404
