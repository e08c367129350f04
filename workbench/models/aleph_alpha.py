"""The Aleph Alpha API: `POST /complete` with a bearer token; models from
`GET /models_available`. `luminous-extended-control`, the seed's model, is one of its."""

from __future__ import annotations

from typing import Any, ClassVar

from workbench.cancel import CancelToken
from workbench.models.base import Completion
from workbench.models.http import HttpModelProvider


class AlephAlphaProvider(HttpModelProvider):
    kind: ClassVar[str] = "aleph-alpha"
    LABEL = "Aleph Alpha API"
    DEFAULT_BASE_URL = "https://api.aleph-alpha.com"

    def complete_text(
        self, prompt: str, model: str, *, cancel: CancelToken | None = None
    ) -> Completion:
        sampling = self.settings.sampling
        body: dict[str, Any] = {
            "model": model,
            "prompt": prompt,
            "maximum_tokens": sampling.max_tokens,
        }
        if sampling.temperature is not None:
            body["temperature"] = sampling.temperature
        if sampling.stop:
            body["stop_sequences"] = list(sampling.stop)
        data = self.request_json("POST", "complete", model=model, body=body, cancel=cancel)
        try:
            text = data["completions"][0]["completion"]
            if not isinstance(text, str):
                raise TypeError
        except (KeyError, IndexError, TypeError):
            raise self.malformed(model, "a completion in `completions`") from None
        return Completion(
            text=text,
            model=str(data.get("model_version") or model),
            prompt_tokens=data.get("num_tokens_prompt_total"),
            completion_tokens=data.get("num_tokens_generated"),
        )

    def list_models(self) -> list[str]:
        data = self.request_json("GET", "models_available")
        try:
            return sorted(str(entry["name"]) for entry in data)
        except (KeyError, TypeError):
            raise self.malformed(None, "a list of models") from None
