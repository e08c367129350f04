"""`workbench docs add|list|search`: the project's documents, which the local document index
serves to skills (search, documents, document_metadata).

Documents live in `PROJECT/documents/<namespace>/<collection>/`, so `--project` names any
folder: a skill project, or one that holds only documents so far. `search` asks the local
index, the one a run uses when no Document Index is configured.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from workbench.errors import UsageError

#: The index name `search` sends when none is given; the local index has one per collection.
DEFAULT_INDEX = "local"
DEFAULT_MAX_RESULTS = 5


def add_parsers(subparsers: Any) -> None:
    """Add `docs` and its actions to the `workbench` command's subparsers."""
    docs = subparsers.add_parser(
        "docs",
        help="add, list and search the project's documents (the local document index)",
        description="The documents a skill's search, documents and document_metadata calls "
        "find when run by the workbench: text and Markdown files in "
        "PROJECT/documents/NAMESPACE/COLLECTION/, metadata beside each in NAME.meta.json, "
        "ranked by full-text search (BM25).",
    )
    actions = docs.add_subparsers(dest="docs_command", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="copy text or Markdown files into a collection")
    add.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="UTF-8 .md or .txt")
    _collection_options(add, required=True)
    add.add_argument("--name", help="the document's name (default: the file's name, no suffix)")
    add.add_argument(
        "--metadata", type=_json_object, metavar="JSON", help="e.g. '{\"year\": 2024}'"
    )
    _common_options(add, "print what was added as JSON")

    listing = actions.add_parser("list", help="list the documents, by collection")
    _collection_options(listing, required=False)
    _common_options(listing, "print the documents as JSON")

    search = actions.add_parser("search", help="search a collection as a skill would")
    search.add_argument("query", help="free text; its words are looked for (any of them)")
    _collection_options(search, required=True)
    search.add_argument(
        "--index", default=DEFAULT_INDEX, help="the index name (the local index ignores it)"
    )
    search.add_argument(
        "--max-results",
        type=_count,
        default=DEFAULT_MAX_RESULTS,
        metavar="N",
        help=f"at most this many passages (default {DEFAULT_MAX_RESULTS})",
    )
    search.add_argument(
        "--min-score", type=float, metavar="X", help="only passages scoring at least X"
    )
    search.add_argument(
        "--filter",
        dest="filters",
        type=_json_value,
        action="append",
        default=[],
        metavar="JSON",
        help='a filter as the Document Index takes it, e.g. \'{"with": [{"metadata": '
        '{"field": "year", "greater_than": 2020}}]}\' (a list of them, or repeat --filter)',
    )
    _common_options(search, "print the results as the CSI returns them")


async def docs(args: argparse.Namespace) -> int:
    actions = {"add": _add, "list": _list, "search": _search}
    return actions[args.docs_command](args)


def _add(args: argparse.Namespace) -> int:
    from workbench.cli.output import print_json, shown
    from workbench.documents.local import LocalDocumentIndex

    if args.name is not None and len(args.paths) > 1:
        raise UsageError("--name names one document; give one PATH with it, or leave it out.")
    index = LocalDocumentIndex(_project(args))
    added = []
    for path in args.paths:
        target = index.add(args.namespace, args.collection, path, args.name, args.metadata)
        name = args.name if args.name is not None else path.stem
        added.append(
            {
                "namespace": args.namespace,
                "collection": args.collection,
                "name": name,
                "path": str(target),
            }
        )
        if not args.json:
            print(f"Added {shown(target)} as {args.namespace}/{args.collection}/{name}")
    if args.json:
        print_json(added)
    return 0


def _list(args: argparse.Namespace) -> int:
    from workbench.cli.output import print_json, shown, terminal_safe
    from workbench.documents.local import LocalDocumentIndex

    found = LocalDocumentIndex(_project(args)).list_documents(args.namespace, args.collection)
    if args.json:
        print_json(
            [
                {
                    **document.document_path,
                    "path": str(document.path),
                    "metadata_path": str(document.metadata_path)
                    if document.metadata_path
                    else None,
                }
                for document in found
            ]
        )
        return 0
    if not found:
        print(
            "No documents yet; add some with "
            "`workbench docs add FILE --namespace NS --collection C`."
        )
        return 0
    for document in found:
        extra = ", with metadata" if document.metadata_path else ""
        where = f"{document.namespace}/{document.collection}/{document.name}"
        print(terminal_safe(f"{where}  ({shown(document.path)}{extra})"))
    return 0


def _search(args: argparse.Namespace) -> int:
    from workbench.cli.output import print_json, terminal_safe
    from workbench.documents.local import LocalDocumentIndex

    filters: list[Any] = []
    for value in args.filters:
        filters.extend(value if isinstance(value, list) else [value])
    request = {
        "query": args.query,
        "index_path": {
            "namespace": args.namespace,
            "collection": args.collection,
            "index": args.index,
        },
        "max_results": args.max_results,
        "min_score": args.min_score,
        "filters": filters,
    }
    index = LocalDocumentIndex(_project(args))
    try:
        results = index.search(request)
    finally:
        index.close()
    if args.json:
        print_json(results)
        return 0
    if not results:
        print("No passage matches.")
        return 0
    for number, result in enumerate(results, 1):
        path = result["document_path"]
        start, end = result["start"]["position"], result["end"]["position"]
        print(
            terminal_safe(
                f"{number}. {path['namespace']}/{path['collection']}/{path['name']}  "
                f"score {result['score']:.4g}  characters {start}-{end}"
            )
        )
        for line in result["content"].splitlines():
            print(terminal_safe(f"   {line}".rstrip()))
        print()
    return 0


def _project(args: argparse.Namespace) -> Path:
    folder: Path = args.project
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder; give the project's folder with --project.")
    return folder


def _collection_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--namespace", required=required, help="e.g. my-team")
    parser.add_argument("--collection", required=required, help="e.g. handbook")


def _common_options(parser: argparse.ArgumentParser, json_help: str) -> None:
    parser.add_argument(
        "--project",
        type=Path,
        default=Path("."),
        metavar="PATH",
        help="the folder that holds documents/ (default: this folder)",
    )
    parser.add_argument("--json", action="store_true", help=json_help)


def _json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not JSON ({error})") from None


def _json_object(text: str) -> dict[str, Any]:
    value = _json_value(text)
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("metadata must be a JSON object, like '{\"a\": 1}'")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value
