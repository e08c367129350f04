"""The `workbench` command's arguments: one parser, each option declared once."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench import __version__
from workbench.cli.documents import add_parsers as add_document_parsers
from workbench.cli.serve import add_parsers as add_serve_parsers
from workbench.project.scaffold import TEMPLATE_NAMES

SUBCOMMANDS = (
    "new",
    "env",
    "bindings",
    "build",
    "run",
    "describe",
    "models",
    "key",
    "docs",
    "serve",
    "publish",
    "tags",
    "login",
    "logout",
)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        usage="workbench [PATH] | workbench COMMAND ...",
        description="Write, build, run and publish Pharia Kernel skills. `workbench [PATH]` "
        "opens the terminal app on the skill project at PATH (default: this folder).",
        epilog="Run `workbench COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    new = commands.add_parser("new", help="create a skill project from a template")
    new.add_argument("name", help="the skill's name (also its Python module)")
    new.add_argument("directory", nargs="?", type=Path, help="where to create it (./NAME)")
    new.add_argument(
        "--template",
        "-t",
        choices=TEMPLATE_NAMES,
        default=TEMPLATE_NAMES[0],
        help="seed: the seed's haiku and skill.wit (the default); skill: a pharia-skill @skill; "
        "message-stream: a pharia-skill @message_stream",
    )
    new.add_argument(
        "--env",
        action="store_true",
        help="for the pharia-skill templates: make the project's environment right away",
    )
    new.add_argument("--json", action="store_true", help="print what was made as JSON")

    env = commands.add_parser(
        "env",
        help="make a pharia-skill project's environment (.venv, Python 3.11, pharia-skill)",
        description="Make the environment a pharia-skill (SDK) project builds with: "
        "PATH/.venv with Python 3.11 and pharia-skill (the version requirements.txt or "
        "pyproject.toml pins, else the latest), which brings the componentize-py it needs. "
        "An environment that is already there (the project's .venv, `environment` in "
        "workbench.toml, or the active one with pharia-skill) is reused.",
    )
    env.add_argument(
        "path", nargs="?", type=Path, default=Path("."), help="the project (default: here)"
    )
    env.add_argument("--json", action="store_true", help="print the environment as JSON")

    bindings = commands.add_parser(
        "bindings", help="write stub bindings (the `skill` package) for editors"
    )
    bindings.add_argument("path", nargs="?", type=Path, default=Path("."))

    build = commands.add_parser("build", help="build the skill into a WebAssembly component")
    build.add_argument("path", nargs="?", type=Path, default=Path("."))
    build.add_argument("--force", action="store_true", help="build even if nothing changed")
    build.add_argument("-v", "--verbose", action="store_true", help="show componentize-py's output")
    build.add_argument(
        "-o",
        "--output",
        type=Path,
        help="write the component to FILE instead of the project's build/ folder",
        metavar="FILE",
    )

    run = commands.add_parser(
        "run",
        help="run the skill (building it first if it changed), or any built component file",
    )
    run.add_argument(
        "path", nargs="?", type=Path, default=Path("."), help="a project, or a .wasm file"
    )
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
    run.add_argument(
        "--max-prints",
        type=_byte_count,
        metavar="SIZE",
        help="how much of the skill's prints to keep, e.g. 16MiB (default 1MiB)",
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
    run.add_argument(
        "--json",
        action="store_true",
        help="print the whole result as JSON (a message stream: each event as a line of "
        "JSON as it comes, then the result)",
    )
    run.add_argument(
        "--component",
        action="store_true",
        help="build the component and run it, even when only the skill's own modules changed "
        "(which run instantly otherwise)",
    )
    run.add_argument(
        "--raw",
        action="store_true",
        help="pass the skill's output and prints through untouched (control characters too)",
    )
    run.add_argument(
        "-v", "--verbose", action="store_true", help="show componentize-py's output when building"
    )

    describe = commands.add_parser(
        "describe",
        help="say which world a skill's component uses, which kernels load it, and what the "
        "skill says about itself (description, input and output schemas)",
    )
    describe.add_argument(
        "path", nargs="?", type=Path, default=Path("."), help="a project, or a .wasm file"
    )
    describe.add_argument("--json", action="store_true", help="print it as JSON")

    models = commands.add_parser("models", help="list the models a provider serves")
    _provider_options(models)

    key = commands.add_parser("key", help="store or forget a provider's API key (OS keyring)")
    key.add_argument("action", choices=("set", "delete"))
    key.add_argument(
        "provider",
        help="the provider's name (from the config, or a kind), or document-index for the "
        "Document Index's token",
    )
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
    add_document_parsers(commands)
    add_serve_parsers(commands)
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
    from workbench.project.model import (
        MAXIMUM_MEMORY_LIMIT,
        MINIMUM_MEMORY_LIMIT,
        format_size,
        parse_size,
    )

    try:
        size = parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if size < MINIMUM_MEMORY_LIMIT:
        raise argparse.ArgumentTypeError(f"must be at least {format_size(MINIMUM_MEMORY_LIMIT)}")
    if size > MAXIMUM_MEMORY_LIMIT:
        raise argparse.ArgumentTypeError(
            f"must be at most {format_size(MAXIMUM_MEMORY_LIMIT)}: a 32-bit WebAssembly skill "
            "cannot use more"
        )
    return size


def _byte_count(text: str) -> int:
    from workbench.project.model import parse_size

    try:
        size = parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if size <= 0:
        raise argparse.ArgumentTypeError("must be more than 0 bytes")
    return size
