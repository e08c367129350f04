"""Any server speaking the OpenAI HTTP API: OpenAI, vLLM, Ollama, llama.cpp, LM Studio.

The prompt goes out as one user message to `POST /chat/completions`, or as is to
`POST /completions` (mode "completions"); models come from `GET /models`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from workbench.cancel import CancelToken
from workbench.models.base import Completion
from workbench.models.http import HttpModelProvider, HttpSettings

Mode = Literal["chat", "completions"]


class OpenAIProvider(HttpModelProvider):
    kind: ClassVar[str] = "openai"
    LABEL = "OpenAI-compatible server"
    DEFAULT_BASE_URL = "https://api.openai.com/v1"

    def __init__(self, name: str, settings: HttpSettings, mode: Mode = "chat") -> None:
        super().__init__(name, settings)
        self.mode = mode

    def complete_text(
        self, prompt: str, model: str, *, cancel: CancelToken | None = None
    ) -> Completion:
        sampling = self.settings.sampling
        body: dict[str, Any] = {"model": model, "max_tokens": sampling.max_tokens}
        if sampling.temperature is not None:
            body["temperature"] = sampling.temperature
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        if self.mode == "chat":
            body["messages"] = [{"role": "user", "content": prompt}]
            path = "chat/completions"
        else:
            body["prompt"] = prompt
            path = "completions"
        data = self.request_json("POST", path, model=model, body=body, cancel=cancel)
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"] if self.mode == "chat" else choice["text"]
            if not isinstance(text, str):
                raise TypeError
        except (KeyError, IndexError, TypeError):
            raise self.malformed(model, "a completion in `choices`") from None
        usage = data.get("usage") or {}
        return Completion(
            text=text,
            model=str(data.get("model") or model),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
        )

    def list_models(self) -> list[str]:
        data = self.request_json("GET", "models")
        try:
            return sorted(str(entry["id"]) for entry in data["data"])
        except (KeyError, TypeError):
            raise self.malformed(None, "a model list in `data`") from None
