"""A request's JSON body, read as the kernel's (axum's) `Json` extractor reads it: the
content type first, then the size limit, then the JSON itself, each refused in its words."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response

from workbench.serve import kernel


async def json_body(request: Request) -> Any:
    """The request's JSON, or the kernel's refusal of it (axum's `Json` extractor)."""
    content_type = request.headers.get("content-type", "")
    mime = content_type.split(";")[0].strip().lower()
    if not (mime == "application/json" or (mime.startswith("application/") and "+json" in mime)):
        return PlainTextResponse(kernel.JSON_CONTENT_TYPE, kernel.UNSUPPORTED_MEDIA_TYPE)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > kernel.BODY_LIMIT:
                return PlainTextResponse(kernel.BODY_TOO_LARGE, kernel.PAYLOAD_TOO_LARGE)
            chunks.append(chunk)
    except ClientDisconnect:
        return Response(status_code=kernel.BAD_REQUEST)
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError) as error:
        return PlainTextResponse(kernel.not_json(str(error)), kernel.BAD_REQUEST)
