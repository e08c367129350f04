"""`pharia:skill@0.2` (newest 0.2.10): one `csi` interface of single (not batch) calls,
SDK releases before 0.5.13. Completions and chats come back without logprobs or usage;
roles and languages are enums; `chunk` has no overlap; search results have no cursors.
"""

from __future__ import annotations

from typing import Any

from workbench.errors import ModelError
from workbench.run.worlds.common import documents, finish_reason, metadata_bytes
from workbench.run.worlds.table import Arguments, CsiJson, HostFunction, Interface, Plain, WorldLine

_WORLD = "pharia:skill@0.2"


def _params(params: Plain, *, special_tokens: bool) -> CsiJson:
    return {
        **params,
        "return_special_tokens": special_tokens,
        "logprobs": "no",
        "echo": False,
    }


def _complete(special_tokens: bool) -> HostFunction:
    return HostFunction(
        "complete",
        request=lambda a: [
            {
                "model": a["model"],
                "prompt": a["prompt"],
                "params": _params(a["params"], special_tokens=special_tokens),
            }
        ],
        response=lambda answers: _completion(answers[0]),
    )


def _completion(answer: dict[str, Any]) -> Plain:
    return {
        "text": answer.get("text", ""),
        "finish_reason": finish_reason(answer["finish_reason"], tool_calls=False, world=_WORLD),
    }


def _chat_request(arguments: Arguments) -> CsiJson:
    return [
        {
            "model": arguments["model"],
            "messages": arguments["messages"],
            "params": {**arguments["params"], "logprobs": "no"},
        }
    ]


def _chat_response(answers: list[dict[str, Any]]) -> Plain:
    answer = answers[0]
    return {
        "message": {
            "role": "assistant",
            "content": (answer.get("message") or {}).get("content") or "",
        },
        "finish_reason": finish_reason(answer["finish_reason"], tool_calls=False, world=_WORLD),
    }


def _language(answers: list[str | None]) -> Plain:
    found = answers[0]
    if found not in (None, "eng", "deu"):
        raise ModelError(f"The language {found!r} is not one a {_WORLD} skill can receive.")
    return found


def _search_results(answers: list[list[dict[str, Any]]]) -> Plain:
    return [
        {"document_path": r["document_path"], "content": r["content"], "score": r["score"]}
        for r in answers[0]
    ]


CSI = Interface(
    functions={
        "complete": _complete(special_tokens=False),
        "complete-return-special-tokens": _complete(special_tokens=True),
        "complete-all": HostFunction(
            "complete",
            request=lambda a: [
                {**r, "params": _params(r["params"], special_tokens=False)} for r in a["requests"]
            ],
            response=lambda answers: [_completion(a) for a in answers],
        ),
        "chat": HostFunction("chat", request=_chat_request, response=_chat_response),
        "chunk": HostFunction(
            "chunk",
            request=lambda a: [{"text": a["text"], "params": {**a["params"], "overlap": 0}}],
            response=lambda answers: answers[0],
        ),
        "select-language": HostFunction(
            "select_language",
            request=lambda a: [{"text": a["text"], "languages": a["languages"]}],
            response=_language,
        ),
        "search": HostFunction(
            "search",
            request=lambda a: [{**a, "filters": []}],
            response=_search_results,
        ),
        "document-metadata": HostFunction(
            "document_metadata",
            request=lambda a: [a["document_path"]],
            response=lambda answers: metadata_bytes(answers)[0],
        ),
        "documents": HostFunction("documents", request=lambda a: a["requests"], response=documents),
    }
)

V0_2 = WorldLine(
    version="0.2.10",
    interfaces={"csi": CSI},
    kernels=((0, "Pharia Kernel 0.1 and later"),),
)
