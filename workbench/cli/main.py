"""The `workbench` command: `workbench [PATH]` opens the app; subcommands work headless.

Headless subcommands never import Textual. Every error a user can cause ends in one line
on stderr and exit code 1; no traceback of ours is printed.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from workbench.cli.output import error_line
from workbench.cli.parser import SUBCOMMANDS, parser
from workbench.errors import WorkbenchError

DEBUG_ENV = "WORKBENCH_DEBUG"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(argv)
    except WorkbenchError as error:
        error_line(str(error))
        return 1
    except KeyboardInterrupt:
        error_line("Interrupted.")
        return 130
    except Exception as error:  # a bug of ours: one line, the traceback only on request
        if os.environ.get(DEBUG_ENV):
            raise
        error_line(
            f"The workbench hit an internal error ({type(error).__name__}: {error}); "
            f"run again with {DEBUG_ENV}=1 for details and please report it."
        )
        return 1


def _dispatch(argv: list[str]) -> int:
    if not argv or argv[0] not in (*SUBCOMMANDS, "-h", "--help", "--version"):
        return _open_app(argv)
    args = parser().parse_args(argv)
    if args.command in ("publish", "tags", "login", "logout"):
        from workbench.cli import publishing

        return asyncio.run(getattr(publishing, args.command)(args))
    if args.command == "serve":
        from workbench.cli import serve

        return serve.serve(args)
    if args.command == "docs":
        from workbench.cli import documents

        return asyncio.run(documents.docs(args))
    if args.command in ("new", "env"):
        from workbench.cli import projects

        return asyncio.run(getattr(projects, args.command)(args))
    from workbench.cli import running

    command = getattr(running, args.command)
    result = command(args)
    return asyncio.run(result) if asyncio.iscoroutine(result) else result


def _open_app(argv: list[str]) -> int:
    """`workbench [PATH]`: the terminal app on the project at PATH (default: here)."""
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        parser().print_usage(sys.stderr)
        error_line(
            f"Unknown command or option {argv[0]!r}; commands are: {', '.join(SUBCOMMANDS)}."
        )
        return 2
    folder = Path(argv[0]) if argv else Path(".")
    if not folder.is_dir() and not (folder.suffix == ".wasm" and folder.is_file()):
        error_line(
            f"{folder} is neither a folder nor a .wasm file; give the path of a skill project "
            "or of a component file (or none for this folder)."
        )
        return 1
    from workbench.tui.app import make_app  # Textual is imported only here

    app = make_app(folder)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
