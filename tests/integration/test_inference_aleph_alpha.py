"""The CSI's inference functions served by a real Aleph Alpha API server on loopback: the
bodies the kernel sends to `/complete`, `/explain` and `/chat/completions`, and the replies
mapped back to the kernel's `/csi/v1` JSON. Its stream is in test_inference_streams.py."""

from __future__ import annotations

from tests.integration.test_inference import MODEL, aleph_alpha, chat_request, text_of
from tests.servers.model_api import AlephAlphaApi, ModelServerState, model_server
from tests.servers.model_replies import logprob_for, reply_for, score_for, tokens
from workbench.cancel import CancelToken
from workbench.csi import inference


def test_aleph_alpha_complete_sends_the_kernels_body_and_maps_the_reply() -> None:
    params = {
        "max_tokens": 3,
        "temperature": 0.5,
        "top_k": 4,
        "top_p": 0.9,
        "stop": ["###"],
        "return_special_tokens": True,
        "frequency_penalty": 0.1,
        "presence_penalty": 0.2,
        "logprobs": {"top": 2},
        "echo": False,
    }
    with model_server(AlephAlphaApi(), ModelServerState(api_key="aa-token")) as server:
        served = inference.complete(
            aleph_alpha(server.base_url),
            [{"model": MODEL, "prompt": "Birch", "params": params}],
            CancelToken(),
        )
        (request,) = server.state.requests
    assert request.path == "/complete"
    assert request.body == {
        "model": MODEL,
        "prompt": [{"type": "text", "data": "Birch"}],
        "maximum_tokens": 3,
        "temperature": 0.5,
        "top_k": 4,
        "top_p": 0.9,
        "frequency_penalty": 0.1,
        "presence_penalty": 0.2,
        "stop_sequences": ["###"],
        "raw_completion": True,
        "log_probs": 2,
        "tokens": True,
    }
    (answer,) = served.response
    three = tokens(reply_for(MODEL, "Birch"))[:3]
    assert answer["text"] == "".join(three) + "<|endoftext|>", (
        "the raw completion, special tokens kept"
    )
    assert answer["finish_reason"] == "length"
    assert [text_of(d["sampled"]["token"]) for d in answer["logprobs"]] == three
    top = answer["logprobs"][1]["top"]
    assert [(text_of(t["token"]), t["logprob"]) for t in top] == [
        (three[1], logprob_for(three[1])),
        ("alt1", logprob_for(three[1], 1)),
    ]
    assert answer["usage"] == {"prompt": 1, "completion": 9}
    assert (served.model, served.notes) == ("2022-04", ())


def test_aleph_alpha_explains_by_word_or_sentence() -> None:
    prompt, target = "Oaks grow slowly. Birches grow fast.", "oaks"
    requests = [
        {"prompt": prompt, "target": target, "model": MODEL, "granularity": "auto"},
        {"prompt": prompt, "target": target, "model": MODEL, "granularity": "sentence"},
    ]
    with model_server(AlephAlphaApi()) as server:
        served = inference.explain(aleph_alpha(server.base_url), requests, CancelToken())
        auto, sentence = server.state.requests
    assert auto.path == "/explain"
    assert auto.body == {
        "prompt": [{"type": "text", "data": prompt}],
        "target": target,
        "model": MODEL,
    }
    assert sentence.body["prompt_granularity"] == {"type": "sentence"}
    words, sentences = served.response
    assert words == [
        {"start": start, "length": len(word), "score": score_for(word, target)}
        for start, word in (
            (0, "Oaks"),
            (5, "grow"),
            (10, "slowly."),
            (18, "Birches"),
            (26, "grow"),
            (31, "fast."),
        )
    ]
    assert len(sentences) == 2 and served.model == MODEL


def test_aleph_alpha_chats_through_its_openai_shaped_api() -> None:
    with model_server(AlephAlphaApi(), ModelServerState(api_key="aa-token")) as server:
        provider = aleph_alpha(server.base_url)
        served = inference.chat(
            provider, [chat_request("fir", model=MODEL, temperature=0.1)], CancelToken()
        )
        events = list(
            inference.chat_stream(provider, chat_request("fir", model=MODEL), CancelToken()).events
        )
        paths = [request.path for request in server.state.requests]
    assert paths == ["/chat/completions", "/chat/completions"]
    assert served.response[0]["message"]["content"] == reply_for(MODEL, "fir")
    assert served.model == MODEL
    content = "".join(e["data"]["content"] for e in events if e["event"] == "message_append")
    assert content == reply_for(MODEL, "fir")
