"""The `workbench` command: `workbench [PATH]` opens the app; subcommands work headless.

Headless subcommands never import Textual. Every error a user can cause ends in one line
on stderr and exit code 1; no traceback of ours is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from workbench import __version__
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.models.base import ModelProvider

SUBCOMMANDS = (
    "new",
    "bindings",
    "build",
    "run",
    "models",
    "key",
    "publish",
    "tags",
    "login",
    "logout",
)
DEBUG_ENV = "WORKBENCH_DEBUG"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        usage="workbench [PATH] | workbench COMMAND ...",
        description="Write, build, run and publish Pharia Kernel skills. `workbench [PATH]` "
        "opens the terminal app on the skill project at PATH (default: this folder).",
        epilog="Run `workbench COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    new = commands.add_parser("new", help="create a skill project from the template")
    new.add_argument("name", help="the skill's name (also its Python module)")
    new.add_argument("directory", nargs="?", type=Path, help="where to create it (./NAME)")

    bindings = commands.add_parser(
        "bindings", help="write stub bindings (the `skill` package) for editors"
    )
    bindings.add_argument("path", nargs="?", type=Path, default=Path("."))

    build = commands.add_parser("build", help="build the skill into a WebAssembly component")
    build.add_argument("path", nargs="?", type=Path, default=Path("."))
    build.add_argument("--force", action="store_true", help="build even if nothing changed")
    build.add_argument("-v", "--verbose", action="store_true", help="show componentize-py's output")

    run = commands.add_parser("run", help="run the skill (building it first if it changed)")
    run.add_argument("path", nargs="?", type=Path, default=Path("."))
    run.add_argument(
        "--input", "-i", help="the skill's input (default: [run] input in workbench.toml)"
    )
    run.add_argument("--model", "-m", help="ask this model instead of the one the skill names")
    run.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="stop the skill after this long (default 30)",
    )
    run.add_argument(
        "--memory-limit",
        type=_size,
        metavar="SIZE",
        help="the skill's memory limit, e.g. 256MiB (default 1GiB)",
    )
    _provider_options(run)
    run.add_argument(
        "--record",
        action="store_true",
        help="save the model's replies to replies.json for --provider replay",
    )
    run.add_argument(
        "--trace", type=Path, metavar="FILE", help="write every CSI call to FILE as JSON lines"
    )
    run.add_argument("--json", action="store_true", help="print the whole result as JSON")
    run.add_argument(
        "-v", "--verbose", action="store_true", help="show componentize-py's output when building"
    )

    models = commands.add_parser("models", help="list the models a provider serves")
    _provider_options(models)

    key = commands.add_parser("key", help="store or forget a provider's API key (OS keyring)")
    key.add_argument("action", choices=("set", "delete"))
    key.add_argument("provider", help="the provider's name (from the config, or a kind)")
    key.add_argument(
        "--stdin", action="store_true", help="read the key from standard input instead of asking"
    )

    publish = commands.add_parser("publish", help="push the component to an OCI registry")
    publish.add_argument("path", nargs="?", type=Path, default=Path("."))
    _target_options(publish)
    publish.add_argument("--tag", "-t", help="the tag (default: [publish] tag, else latest)")

    tags = commands.add_parser("tags", help="list (or delete) the skill's tags in the registry")
    tags.add_argument("path", nargs="?", type=Path, default=Path("."))
    _target_options(tags)
    tags.add_argument("--delete", metavar="TAG", help="delete this tag, where allowed")

    login = commands.add_parser("login", help="check and save registry credentials (keyring)")
    login.add_argument("registry", help="HOST[:PORT]")
    login.add_argument("--username", "-u")
    login.add_argument(
        "--password-stdin", action="store_true", help="read the token from standard input"
    )
    login.add_argument("--insecure", action="store_true", help="plain HTTP")
    login.add_argument("--ca-file", type=Path, help="trust this CA for the registry's TLS")

    logout = commands.add_parser("logout", help="forget a registry's credentials")
    logout.add_argument("registry", help="HOST[:PORT]")
    return parser


def _target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--registry", "-R", help="HOST[:PORT] (or SKILL_REGISTRY)")
    parser.add_argument("--repository", "-r", help="e.g. engineering/skills (or SKILL_REPOSITORY)")
    parser.add_argument("--name", "-n", help="the skill's name (default: its module)")
    parser.add_argument("--insecure", action="store_true", help="the registry speaks plain HTTP")
    parser.add_argument("--ca-file", type=Path, help="trust this CA for the registry's TLS")


def _provider_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--provider",
        "-p",
        metavar="NAME",
        help="a provider from the config, or echo, openai, aleph-alpha, replay "
        "(default: the config's default-provider, else echo)",
    )
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="the provider's server, e.g. http://localhost:11434/v1 for Ollama",
    )


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


def _size(text: str) -> int:
    from workbench.project import MINIMUM_MEMORY_LIMIT, format_size, parse_size

    try:
        size = parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if size < MINIMUM_MEMORY_LIMIT:
        raise argparse.ArgumentTypeError(f"must be at least {format_size(MINIMUM_MEMORY_LIMIT)}")
    return size


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(argv)
    except WorkbenchError as error:
        _error(str(error))
        return 1
    except KeyboardInterrupt:
        _error("Interrupted.")
        return 130
    except Exception as error:  # a bug of ours: one line, the traceback only on request
        if os.environ.get(DEBUG_ENV):
            raise
        _error(
            f"The workbench hit an internal error ({type(error).__name__}: {error}); "
            f"run again with {DEBUG_ENV}=1 for details and please report it."
        )
        return 1


def _dispatch(argv: list[str]) -> int:
    if not argv or argv[0] not in (*SUBCOMMANDS, "-h", "--help", "--version"):
        return _open_app(argv)
    args = _parser().parse_args(argv)
    if args.command == "new":
        return _new(args)
    if args.command == "bindings":
        return _bindings(args)
    if args.command == "build":
        return asyncio.run(_build(args))
    if args.command == "models":
        return _models(args)
    if args.command == "key":
        return _key(args)
    if args.command in ("publish", "tags", "login", "logout"):
        from workbench import cli_publish

        return getattr(cli_publish, args.command)(args)
    return asyncio.run(_run(args))


def _resolve_provider(
    args: argparse.Namespace, project_root: Path | None = None, record: bool = False
) -> ModelProvider:
    from workbench.config import load_config
    from workbench.models import open_provider, settings_for

    config = load_config()
    settings = settings_for(
        args.provider or config.default_provider, config.providers, args.base_url
    )
    resolved = open_provider(settings, project_root=project_root, record=record)
    for warning in resolved.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return resolved.provider


def _models(args: argparse.Namespace) -> int:
    provider = _resolve_provider(args)
    for model in provider.list_models():
        print(model)
    return 0


def _key(args: argparse.Namespace) -> int:
    import getpass

    from workbench.config import load_config
    from workbench.credentials import SecretStore, provider_account
    from workbench.models import settings_for

    settings = settings_for(args.provider, load_config().providers)
    store = SecretStore()
    account = provider_account(settings.name)
    if args.action == "delete":
        removed = store.delete(account)
        print(
            f"Forgot the API key of {settings.name}."
            if removed
            else f"There was no API key stored for {settings.name}."
        )
        return 0
    if args.stdin:
        secret = sys.stdin.readline().strip()
    elif sys.stdin.isatty():
        secret = getpass.getpass(f"API key for {settings.name} (hidden): ").strip()
    else:
        _error("No terminal to ask for the key on; pipe it in with --stdin.")
        return 1
    if not secret:
        _error("The key is empty; nothing was saved.")
        return 1
    store.set(account, secret, env_override="WORKBENCH_API_KEY")
    print(f"Saved the API key of {settings.name} in the OS keyring ({store.describe()}).")
    return 0


def _open_app(argv: list[str]) -> int:
    """`workbench [PATH]`: the terminal app on the project at PATH (default: here)."""
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        _parser().print_usage(sys.stderr)
        _error(f"Unknown command or option {argv[0]!r}; commands are: {', '.join(SUBCOMMANDS)}.")
        return 2
    folder = Path(argv[0]) if argv else Path(".")
    if not folder.is_dir():
        _error(
            f"{folder} is not a folder; give the path of a skill project (or none for this folder)."
        )
        return 1
    from workbench.tui.app import make_app  # Textual is imported only here

    app = make_app(folder)
    app.run()
    if app.return_code:
        return app.return_code
    return 0


def _new(args: argparse.Namespace) -> int:
    from workbench.scaffold import create_project

    directory = create_project(args.name, args.directory)
    print(f"Created the skill project {directory}")
    print(f"Next: workbench run {_shown(directory)} --input 'oak trees'")
    return 0


def _bindings(args: argparse.Namespace) -> int:
    from workbench.builder import write_bindings
    from workbench.project import load_project

    project = load_project(args.path)
    written = asyncio.run(write_bindings(project))
    print(f"Wrote stub bindings to {_shown(written)}")
    return 0


async def _build(args: argparse.Namespace) -> int:
    from workbench.project import load_project

    project = load_project(args.path)
    return 0 if await _build_and_report(project, force=args.force, verbose=args.verbose) else 1


async def _build_and_report(
    project: object, *, force: bool = False, verbose: bool = False, quiet_when_cached: bool = False
) -> bool:
    from workbench.builder import BuildFailed, BuildLog, BuildStarted, BuildSucceeded, build
    from workbench.project import SkillProject

    assert isinstance(project, SkillProject)
    async for event in build(project, force=force):
        if isinstance(event, BuildStarted):
            print(
                f"Building {project.module} ({project.qualified_world}) with componentize-py...",
                file=sys.stderr,
                flush=True,
            )
        elif isinstance(event, BuildLog) and verbose:
            print(f"  {event.line}", file=sys.stderr, flush=True)
        elif isinstance(event, BuildSucceeded):
            where = _shown(event.component)
            if event.cached and not quiet_when_cached:
                print(f"{where} is up to date (inputs unchanged, cache hit).", file=sys.stderr)
            elif not event.cached:
                print(f"Built {where} in {event.duration:.1f} s.", file=sys.stderr)
        elif isinstance(event, BuildFailed):
            for diagnostic in event.diagnostics[1:]:
                print(diagnostic.format(Path.cwd()), file=sys.stderr)
            _error(str(event.error))
            return False
    return True


async def _run(args: argparse.Namespace) -> int:
    from workbench.builder import BuildFailed
    from workbench.csi import write_trace
    from workbench.pipeline import (
        CsiCallMade,
        RunFinished,
        RunRequest,
        SkillOutput,
        limits_for,
        run_component,
    )
    from workbench.project import load_project
    from workbench.runtime import SkillRuntime

    project = load_project(args.path)
    text = args.input if args.input is not None else project.run.input
    if text is None:
        _error(
            "No input for the skill; pass --input TEXT or set `input` under [run] in "
            "workbench.toml."
        )
        return 1
    request = RunRequest(
        input=text,
        model_override=args.model or project.run.model,
        limits=limits_for(project, args.timeout, args.memory_limit),
    )
    provider = _resolve_provider(args, project.root, record=args.record)

    if args.json:
        from workbench.builder import build

        async for event in build(project):
            if isinstance(event, BuildFailed):
                _print_json(
                    {
                        "ok": False,
                        "input": text,
                        "output": None,
                        "error": {
                            "kind": event.error.kind,
                            "message": str(event.error),
                            "diagnostics": [d.format() for d in event.diagnostics],
                        },
                    }
                )
                return 1
    elif not await _build_and_report(project, verbose=args.verbose, quiet_when_cached=True):
        return 1

    runtime = SkillRuntime()
    result = None
    async for event in run_component(project, request, provider, runtime):
        if isinstance(event, SkillOutput) and not args.json:
            _write_now(sys.stderr, event.text)
        elif isinstance(event, CsiCallMade) and not args.json and args.verbose:
            print(
                f"[csi] {event.call.function} model={event.call.model_served} "
                f"({event.call.duration * 1000:.1f} ms)",
                file=sys.stderr,
            )
        elif isinstance(event, RunFinished):
            result = event.result
    assert result is not None
    if args.trace:
        write_trace(result.csi_calls, args.trace)
    if args.json:
        _print_json(result.to_dict())
    elif result.error is None:
        print(result.output)
    else:
        details = getattr(result.error, "details", "")
        if details and details.strip() not in result.stderr:
            print(details, file=sys.stderr)
        _error(str(result.error))
    return 0 if result.ok else 1


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _write_now(stream: TextIO, text: str) -> None:
    stream.write(text)
    stream.flush()


def _shown(path: Path) -> str:
    """A path as short as it can be: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
