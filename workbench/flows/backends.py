"""What serves a run's CSI besides the model, opened from the user's config: the project's
own documents (or a remote Document Index, its token from the OS keyring) and the MCP
servers tools come from."""

from __future__ import annotations

from pathlib import Path

from workbench.config.user import UserConfig
from workbench.credentials import DOCUMENT_INDEX_ACCOUNT, SecretStore
from workbench.csi.backends import CsiBackends


def open_backends(
    config: UserConfig, root: Path, secrets: SecretStore | None = None
) -> CsiBackends:
    """The backends a run in the project at `root` uses; nothing connects before a call."""
    from workbench.documents.local import LocalDocumentIndex
    from workbench.tools import ToolBox

    settings = config.documents
    if settings.backend == "remote" and settings.url:
        from workbench.documents.remote import RemoteDocumentIndex

        token = (secrets or SecretStore()).get(DOCUMENT_INDEX_ACCOUNT)
        documents = RemoteDocumentIndex(settings.url, token)
    else:
        documents = LocalDocumentIndex(root)
    tools = ToolBox(config.mcp_servers) if config.mcp_servers else None
    return CsiBackends(documents=documents, tools=tools)
