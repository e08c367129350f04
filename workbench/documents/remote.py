"""An Aleph Alpha Document Index over HTTP, called exactly as the kernel calls it (kernel
src/search/client.rs `Client`, results mapped as src/search/actor.rs `SearchMsg::search`):

* search: `POST {url}/collections/{ns}/{collection}/indexes/{index}/search`, body
  `{"query": [{"modality": "text", "text": q}], "max_results", "min_score", "filters":
  [...the skill's filters, {"with": [{"modality": "text"}]}]}`, bearer token;
* a document and its metadata: `GET {url}/collections/{ns}/{collection}/docs/{name}`, the
  name percent-encoded (it may hold `/`).

Like the kernel, it sends nothing without a token, and refuses a result whose section has
more than one item or is not text.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from workbench.documents import shapes
from workbench.documents.filters import compile_filters
from workbench.errors import DocumentIndexError

if TYPE_CHECKING:  # imported with the first client (see RemoteDocumentIndex.__init__)
    import httpx

#: How a user gives the workbench the Document Index token, said wherever one is missing or
#: refused (the kernel forwards the caller's PhariaAI token).
TOKEN_HINT = "set the Document Index token with `workbench key set document-index`"
#: The filter the kernel adds to every search, so that only text sections come back.
TEXT_ONLY = {"with": [{"modality": "text"}]}
#: How much of an error reply is quoted.
_DETAIL_CHARS = 300


class RemoteDocumentIndex:
    def __init__(self, url: str, token: str | None, timeout: float = 30.0) -> None:
        # httpx is slow to import: imported with the first client, as the module's global.
        global httpx
        import httpx

        self.url = url.rstrip("/")
        self._shown = _without_credentials(self.url)
        self._token = token or None
        self._timeout = timeout
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        self._client = httpx.Client(headers=headers, timeout=timeout)
        self.description = f"Document Index at {self._shown} (its own search indexes)"

    def search(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        search = shapes.search_request(request)
        compile_filters(search.filters)  # malformed filters are said before anything is sent
        self._need_token("Searching in the Document Index")
        ns, collection, index = (
            _segment(v) for v in (search.namespace, search.collection, search.index)
        )
        # Keys in the order serde_json writes the kernel's `json!` body (sorted).
        body = {
            "filters": [*search.filters, TEXT_ONLY],
            "max_results": search.max_results,
            "min_score": search.min_score,
            "query": [{"modality": "text", "text": search.query}],
        }
        where = f"collection {search.namespace}/{search.collection}"
        answer = self._exchange(
            "POST",
            f"{self.url}/collections/{ns}/{collection}/indexes/{index}/search",
            body,
            action=f"the search in the {where}",
            missing=f"has no {where} with an index {search.index!r}",
        )
        if not isinstance(answer, list):
            raise self._not_the_api("the search")
        return [self._result(item) for item in answer]

    def document(self, path: dict[str, Any]) -> dict[str, Any]:
        namespace, collection, name = shapes.document_path(path)
        self._need_token("Fetching a document from the Document Index")
        answer = self._get_document(namespace, collection, name)
        contents = answer.get("contents")
        if not isinstance(contents, list):
            raise self._not_the_api(f"the request for the document {name!r}")
        return {
            "path": {"namespace": namespace, "collection": collection, "name": name},
            "contents": [self._modality(item, name) for item in contents],
            "metadata": answer.get("metadata"),
        }

    def metadata(self, path: dict[str, Any]) -> Any:
        namespace, collection, name = shapes.document_path(path)
        self._need_token("Fetching metadata from the Document Index")
        return self._get_document(namespace, collection, name).get("metadata")

    def close(self) -> None:
        self._client.close()

    # Requests ----------------------------------------------------------------------------

    def _need_token(self, doing: str) -> None:
        if not self._token:  # the kernel's own check, before any request
            raise DocumentIndexError(f"{doing} requires a PhariaAI token; {TOKEN_HINT}.")

    def _get_document(self, namespace: str, collection: str, name: str) -> dict[str, Any]:
        answer = self._exchange(
            "GET",
            f"{self.url}/collections/{_segment(namespace)}/{_segment(collection)}/docs/"
            f"{quote(name, safe='')}",
            None,
            action=f"the request for the document {name!r}",
            missing=f"has no document {name!r} in the collection {namespace}/{collection}",
        )
        if not isinstance(answer, dict):
            raise self._not_the_api(f"the request for the document {name!r}")
        return answer

    def _exchange(self, method: str, url: str, body: Any, *, action: str, missing: str) -> Any:
        try:
            response = self._client.request(method, url, json=body)
        except httpx.ConnectError as error:
            reason = "connection refused" if "refused" in str(error).lower() else str(error)
            raise DocumentIndexError(
                f"Cannot reach the Document Index at {self._shown} ({reason or 'no answer'}); "
                "check its URL, and that it is running."
            ) from None
        except httpx.TimeoutException:
            raise DocumentIndexError(
                f"The Document Index at {self._shown} did not answer {action} within "
                f"{self._timeout:g} s; try again."
            ) from None
        except httpx.HTTPError as error:
            raise DocumentIndexError(
                f"The request to the Document Index at {self._shown} failed ({error})."
            ) from None
        status = response.status_code
        if status == 401:
            raise DocumentIndexError(
                f"The Document Index at {self._shown} did not accept the token (401 "
                f"Unauthorized); {TOKEN_HINT}."
            )
        if status == 403:
            raise DocumentIndexError(
                f"The Document Index at {self._shown} refused {action} to this token (403 "
                f"Forbidden: {_detail(response)}); {TOKEN_HINT}, one allowed to read it."
            )
        if status == 404:
            raise DocumentIndexError(
                f"The Document Index at {self._shown} {missing} (404: {_detail(response)})."
            )
        if status >= 400:
            raise DocumentIndexError(
                f"The Document Index at {self._shown} answered {action} with {status} "
                f"{response.reason_phrase}: {_detail(response)}."
            )
        try:
            return response.json()
        except ValueError:
            raise self._not_the_api(action) from None

    # Answers -----------------------------------------------------------------------------

    def _result(self, item: Any) -> dict[str, Any]:
        """A Document Index result as the kernel's `search-result`: one text item only."""
        if not isinstance(item, dict):
            raise self._not_the_api("the search")
        section = item.get("section")
        if isinstance(section, list) and len(section) > 1:
            raise DocumentIndexError(
                f"The Document Index at {self._shown} returned a result with more than one "
                "item in its section, which the kernel refuses too."
            )
        start, end = item.get("start"), item.get("end")
        first = section[0] if isinstance(section, list) and section else None
        text = first.get("text") if isinstance(first, dict) else None
        if (
            not isinstance(text, str)
            or first.get("modality") != "text"  # type: ignore[union-attr]
            or not (_text_cursor(start) and _text_cursor(end))
        ):
            raise DocumentIndexError(
                f"The Document Index at {self._shown} returned a search result that is not "
                'text (an image, or no section), which the kernel refuses too ("Invalid '
                'search result").'
            )
        path = item.get("document_path")
        score = item.get("score")
        if not isinstance(path, dict) or not isinstance(score, int | float):
            raise self._not_the_api("the search")
        try:
            document_path = {key: str(path[key]) for key in ("namespace", "collection", "name")}
        except KeyError:
            raise self._not_the_api("the search") from None
        return {
            "document_path": document_path,
            "content": text,
            "score": float(score),
            "start": {"item": start["item"], "position": start["position"]},
            "end": {"item": end["item"], "position": end["position"]},
        }

    def _modality(self, item: Any, name: str) -> dict[str, Any]:
        # As the kernel's /csi/v1 writes it: an image's bytes are not passed on.
        modality = item.get("modality") if isinstance(item, dict) else None
        if modality == "text" and isinstance(item.get("text"), str):
            return {"modality": "text", "text": item["text"]}
        if modality == "image":
            return {"modality": "image"}
        raise self._not_the_api(f"the request for the document {name!r}")

    def _not_the_api(self, action: str) -> DocumentIndexError:
        return DocumentIndexError(
            f"The Document Index at {self._shown} answered {action} with something that is "
            "not the Document Index API's reply; check that its URL is the Document Index's."
        )


def _text_cursor(cursor: Any) -> bool:
    return (
        isinstance(cursor, dict)
        and cursor.get("modality", "text") == "text"
        and all(
            isinstance(cursor.get(k), int) and not isinstance(cursor.get(k), bool)
            for k in ("item", "position")
        )
    )


def _segment(value: str) -> str:
    # The kernel puts namespaces, collections and indexes in the URL as they are (the
    # Document Index allows [a-zA-Z0-9.-] only); encoding changes nothing for those, and
    # keeps any other name from reaching another route.
    return quote(value, safe="")


def _detail(response: httpx.Response) -> str:
    """What the Document Index said went wrong, on one line and short."""
    text = response.text.strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("message", "detail", "error"):
            if isinstance(data.get(key), str):
                text = data[key]
                break
    text = " ".join(text.split()).rstrip(".") or response.reason_phrase or "no message"
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 3] + "..."


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))
