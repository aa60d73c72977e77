"""The test servers for the LLM reader behave like OpenAI-compatible endpoints as the official
`openai` client sees them: the scripted server's replies and failures (fast), and the real
llama-cpp-python server over the tiny PyPI model (slow)."""

from __future__ import annotations

import threading
import time

import openai  # a test dependency (the test extra), never skipped
import pytest

from devtools.llm_servers import (
    Cut,
    Error,
    Hang,
    LlamaServer,
    Malformed,
    Reply,
    ScriptedServer,
    llama_available,
    openai_client,
)

MESSAGES = [{"role": "system", "content": "Answer from the passages; cite with [n]."},
            {"role": "user",
             "content": "[1] The sky is blue.\n\nQuestion: What colour is the sky?"}]


def stream_text(client, model: str, **kwargs) -> tuple[str, list]:
    """Stream one completion; return the joined text and the chunks."""
    chunks = list(client.chat.completions.create(model=model, messages=MESSAGES, stream=True,
                                                 **kwargs))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return text, chunks


# ------------------------------------------------------------------------- scripted: normal

def test_models_endpoint_lists_the_scripted_model():
    with ScriptedServer(model="reader-x") as server:
        assert server.base_url.startswith("http://127.0.0.1:") and server.base_url.endswith("/v1")
        ids = [m.id for m in openai_client(server).models.list()]
    assert ids == ["reader-x"]
    assert server.calls[0].method == "GET" and server.calls[0].path == "/v1/models"


def test_streamed_reply_arrives_in_pieces_and_request_is_recorded():
    text = "The sky is blue [1]. It says so [1]."
    with ScriptedServer([Reply(text, piece_chars=5)]) as server:
        client = openai_client(server, api_key="sk-abc")
        got, chunks = stream_text(client, server.model, temperature=0.0, max_tokens=50)
    assert got == text
    content = [c.choices[0].delta.content for c in chunks
               if c.choices and c.choices[0].delta.content]
    assert content == [text[i:i + 5] for i in range(0, len(text), 5)]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.object == "chat.completion.chunk" and c.model == server.model for c in chunks)
    assert len({c.id for c in chunks}) == 1
    (body,) = server.requests
    assert body["messages"] == MESSAGES and body["stream"] is True
    assert body["model"] == server.model and body["temperature"] == 0.0 and body["max_tokens"] == 50
    assert server.calls[-1].headers["authorization"] == "Bearer sk-abc"
    assert server.errors == []


def test_explicit_pieces_and_finish_reason():
    with ScriptedServer([Reply("ab", pieces=["a", "", "b"], finish_reason="length")]) as server:
        got, chunks = stream_text(openai_client(server), server.model)
    assert got == "ab"
    assert chunks[-1].choices[0].finish_reason == "length"


def test_non_streamed_reply():
    with ScriptedServer(["Blue [1]."]) as server:  # a plain str is a Reply
        r = openai_client(server).chat.completions.create(model=server.model, messages=MESSAGES)
    assert r.choices[0].message.content == "Blue [1]."
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.completion_tokens == 2
    assert server.requests[0].get("stream") in (None, False)


def test_usage_chunk_when_asked_for():
    with ScriptedServer(["one two three"]) as server:
        _, chunks = stream_text(openai_client(server), server.model,
                                stream_options={"include_usage": True})
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])


@pytest.mark.heavy
def test_delay_makes_pieces_arrive_over_time():
    with ScriptedServer([Reply("abcdef", piece_chars=1, delay=0.1)]) as server:
        client = openai_client(server)
        t0 = time.perf_counter()
        arrivals = [time.perf_counter() - t0
                    for c in client.chat.completions.create(model=server.model,
                                                            messages=MESSAGES, stream=True)
                    if c.choices and c.choices[0].delta.content]
    assert len(arrivals) == 6
    assert arrivals[-1] >= 0.55  # six pieces, 0.1 s before each
    assert arrivals[-1] - arrivals[0] >= 0.4  # streamed as produced, not buffered to the end


def test_scripts_are_used_in_order_and_push_adds_more():
    with ScriptedServer(["first", "second"]) as server:
        client = openai_client(server)
        server.push(Reply("third"))
        got = [stream_text(client, server.model)[0] for _ in range(3)]
    assert got == ["first", "second", "third"]
    assert len(server.requests) == 3


def test_callable_script_sees_the_request():
    def script(body):
        question = body["messages"][-1]["content"]
        return Error(400, "too long", "invalid_request_error") if len(question) > 100 \
            else Reply(f"echo: {question}")

    with ScriptedServer(script) as server:
        client = openai_client(server)
        assert stream_text(client, server.model)[0] == f"echo: {MESSAGES[-1]['content']}"
        with pytest.raises(openai.BadRequestError, match="too long"):
            client.chat.completions.create(
                model=server.model, stream=True,
                messages=[{"role": "user", "content": "x" * 101}])
    assert len(server.requests) == 2


def test_running_out_of_scripts_is_a_500_and_recorded():
    with ScriptedServer([]) as server:
        with pytest.raises(openai.InternalServerError, match="no script left"):
            stream_text(openai_client(server), server.model)
    assert server.errors == ["no script left for chat request #1"]


@pytest.mark.heavy
def test_concurrent_requests_are_served_in_parallel():
    with ScriptedServer(lambda body: Reply("x" * 5, piece_chars=1, delay=0.1)) as server:
        client = openai_client(server)
        results = []
        threads = [threading.Thread(target=lambda: results.append(stream_text(client,
                                                                              server.model)[0]))
                   for _ in range(4)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        elapsed = time.perf_counter() - t0
    assert results == ["xxxxx"] * 4
    assert elapsed < 1.5  # 4 x 0.5 s if served one after another


# ------------------------------------------------------------------------- scripted: failures

@pytest.mark.parametrize("status,exc", [
    (400, "BadRequestError"), (401, "AuthenticationError"), (404, "NotFoundError"),
    (429, "RateLimitError"), (500, "InternalServerError"), (503, "InternalServerError"),
])
@pytest.mark.parametrize("stream", [True, False])
def test_error_status_raises_the_openai_exception(status, exc, stream):
    script = Error(status, f"scripted {status}", "scripted_error", code="c42")
    with ScriptedServer([script]) as server, pytest.raises(getattr(openai, exc)) as info:
        r = openai_client(server).chat.completions.create(model=server.model,
                                                          messages=MESSAGES, stream=stream)
        list(r) if stream else r
    assert info.value.status_code == status
    assert f"scripted {status}" in str(info.value)
    assert info.value.code == "c42" and info.value.type == "scripted_error"
    assert len(server.requests) == 1  # max_retries=0


def test_client_retries_by_default_and_honours_retry_after():
    """The openai client's default is 2 retries on 429/5xx: a reader that must fail fast has to
    set max_retries itself."""
    quick = {"retry-after-ms": "10"}
    with ScriptedServer([Error(429, "slow down", headers=quick), Error(500, headers=quick),
                         "finally"]) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="k", timeout=5)
        t0 = time.perf_counter()
        text = stream_text(client, server.model)[0]
    assert text == "finally"
    assert len(server.requests) == 3
    assert time.perf_counter() - t0 < 2


@pytest.mark.heavy
def test_hang_hits_the_client_timeout():
    with ScriptedServer([Hang(30)]) as server:
        client = openai_client(server, timeout=0.5)
        t0 = time.perf_counter()
        with pytest.raises(openai.APITimeoutError):
            stream_text(client, server.model)
        assert 0.45 < time.perf_counter() - t0 < 5
        t_stop = time.perf_counter()
    assert time.perf_counter() - t_stop < 3  # stopping releases the hung handler


@pytest.mark.heavy
def test_hang_without_stream_hits_the_client_timeout():
    with ScriptedServer([Hang(30)]) as server, pytest.raises(openai.APITimeoutError):
        openai_client(server, timeout=0.5).chat.completions.create(model=server.model,
                                                                   messages=MESSAGES)


@pytest.mark.heavy
def test_hang_mid_stream_times_out_after_the_first_pieces():
    with ScriptedServer([Hang(30, text_before="The sky is")]) as server:
        stream = openai_client(server, timeout=0.5).chat.completions.create(
            model=server.model, messages=MESSAGES, stream=True)
        got = []
        with pytest.raises(openai.APITimeoutError):
            for c in stream:
                got.append(c.choices[0].delta.content or "")
    assert "".join(got) == "The sky is"


def test_cut_chunked_stream_raises_after_the_first_pieces():
    with ScriptedServer([Cut("The sky is")]) as server:
        stream = openai_client(server).chat.completions.create(
            model=server.model, messages=MESSAGES, stream=True)
        got = []
        with pytest.raises(openai.APIConnectionError):
            for c in stream:
                got.append(c.choices[0].delta.content or "")
    assert "".join(got) == "The sky is"


def test_cut_unchunked_stream_just_ends_without_finish_reason():
    with ScriptedServer([Cut("The sky is", chunked=False)]) as server:
        text, chunks = stream_text(openai_client(server), server.model)
    assert text == "The sky is"
    assert all(c.choices[0].finish_reason is None for c in chunks)  # the only sign it was cut


def test_cut_non_streamed_body_raises():
    with ScriptedServer([Cut("The sky is")]) as server:
        with pytest.raises(openai.APIConnectionError):
            openai_client(server).chat.completions.create(model=server.model, messages=MESSAGES)


def test_malformed_not_json_line_raises_after_the_good_pieces():
    with ScriptedServer([Malformed("not-json", text_before="Blue")]) as server:
        stream = openai_client(server).chat.completions.create(
            model=server.model, messages=MESSAGES, stream=True)
        got = []
        with pytest.raises(ValueError):  # json.JSONDecodeError
            for c in stream:
                got.append(c.choices[0].delta.content or "")
    assert "".join(got) == "Blue"


def test_malformed_chunk_without_choices_reaches_the_caller():
    """The client does not validate chunks: the reader itself must cope with a chunk that has
    no `choices` (or an empty list, as in OpenAI's usage chunk)."""
    with ScriptedServer([Malformed("no-choices", text_before="Blue"),
                         Malformed("empty-choices", text_before="Blue")]) as server:
        client = openai_client(server)
        chunks = list(client.chat.completions.create(model=server.model, messages=MESSAGES,
                                                     stream=True))
        assert "choices" not in chunks[-1].model_dump(exclude_unset=True)
        assert getattr(chunks[-1], "choices", None) is None  # None in openai 3.x: not iterable
        chunks = list(client.chat.completions.create(model=server.model, messages=MESSAGES,
                                                     stream=True))
        assert chunks[-1].choices == []
        assert "".join(c.choices[0].delta.content or "" for c in chunks[:-1]) == "Blue"


def test_error_event_mid_stream_raises_api_error():
    with ScriptedServer([Malformed("error-event", text_before="Blue")]) as server:
        with pytest.raises(openai.APIError, match="mid-stream"):
            stream_text(openai_client(server), server.model)


def test_malformed_non_streamed_body():
    with ScriptedServer([Malformed("not-json"), Malformed("no-choices")]) as server:
        client = openai_client(server)
        with pytest.raises(ValueError):  # json.JSONDecodeError, not an openai exception
            client.chat.completions.create(model=server.model, messages=MESSAGES)
        r = client.chat.completions.create(model=server.model, messages=MESSAGES)
        assert "choices" not in r.model_dump(exclude_unset=True)


def test_stopped_server_refuses_connections():
    server = ScriptedServer(["never"]).start()
    client = openai_client(server, timeout=2)
    server.stop()
    with pytest.raises(openai.APIConnectionError):
        stream_text(client, server.model)


# ---------------------------------------------------------------------------- real llama server

@pytest.mark.slow
def test_llama_server_streams_a_completion_and_stops():
    reason = llama_available()
    if reason:
        pytest.skip(reason)
    with LlamaServer() as server:
        assert server.base_url.endswith("/v1")
        client = openai_client(server, timeout=120)
        assert [m.id for m in client.models.list()] == [server.model]
        messages = [
            {"role": "system", "content": "Answer the question using only the numbered passage. "
                                          "End each sentence with its citation marker, like [1]."},
            {"role": "user", "content": "[1] The Eiffel Tower is in Paris. It was finished in "
                                        "1889.\n\nQuestion: When was the Eiffel Tower finished?"}]
        t0 = time.perf_counter()
        chunks = list(client.chat.completions.create(model=server.model, messages=messages,
                                                     stream=True, temperature=0.0,
                                                     max_tokens=48, seed=0))
        elapsed = time.perf_counter() - t0
        pieces = [c.choices[0].delta.content for c in chunks
                  if c.choices and c.choices[0].delta.content]
        text = "".join(pieces)
        print(f"\nllama ({server.model}), started in {server.startup_seconds:.1f} s; "
              f"{len(pieces)} pieces in {elapsed:.1f} s: {text!r}")
        assert len(pieces) >= 3 and text.strip()  # a real streamed answer
        assert "1889" in text
        assert chunks[-1].choices[0].finish_reason in ("stop", "length")

        server.stop()  # mid-run: the endpoint is gone, as when a user's server dies
        assert server.proc.poll() is not None
        with pytest.raises(openai.APIConnectionError):
            client.chat.completions.create(model=server.model, messages=messages, stream=True)
