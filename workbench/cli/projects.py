"""`workbench new|env`: making a project, and a pharia-skill project's environment.

Progress (pip's lines) goes to stderr, the outcome to stdout; with `--json` stdout is one
JSON object of the same shape whether it worked or not.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from workbench import flows
from workbench.build.environment import Environment
from workbench.build.venv import EnvironmentLog, EnvironmentReady, EnvironmentStep
from workbench.cancel import CancelToken
from workbench.cli.output import print_json, shown
from workbench.errors import WorkbenchError
from workbench.project.model import SkillProject, load_project

#: Said when the environment was found rather than made, by where it was found.
_FOUND = {
    "project": "The environment {path} is already there",
    "configured": "The environment {path} named in workbench.toml is there",
    "active": "The active environment {path} has pharia-skill",
}


async def new(args: argparse.Namespace) -> int:
    from workbench.project.scaffold import create_project

    result: dict[str, Any] = {
        "ok": False,
        "project": None,
        "template": args.template,
        "module": None,
        "environment": None,
        "error": None,
    }
    try:
        directory = create_project(args.name, args.directory, template=args.template)
        project = load_project(directory)
        result.update(project=str(directory), module=project.module)
        if not args.json:
            print(f"Created the skill project {directory} (template: {args.template})")
        if args.env and project.is_sdk:
            ready = await _make_environment(project, quiet=args.json)
            result["environment"] = _environment_json(ready.environment, ready)
    except WorkbenchError as error:
        if not args.json:
            raise
        result["error"] = _error_json(error)
        print_json(result)
        return 1
    result["ok"] = True
    if args.json:
        print_json(result)
        return 0
    where = shown(directory)
    if not project.is_sdk:
        print(f"Next: workbench run {where} --input 'oak trees'")
    elif result["environment"] is None:
        print(f"Next: workbench env {where} (makes its .venv), then workbench run {where}")
    else:
        print(f"Next: workbench run {where}")
    return 0


async def env(args: argparse.Namespace) -> int:
    result: dict[str, Any] = {"ok": False, "project": None, **_environment_json(None)}
    result["error"] = None
    try:
        project = load_project(args.path)
        result["project"] = str(project.root)
        ready = await _make_environment(project, quiet=args.json)
    except WorkbenchError as error:
        if not args.json:
            raise
        result["error"] = _error_json(error)
        print_json(result)
        return 1
    result.update(ok=True, **_environment_json(ready.environment, ready))
    if args.json:
        print_json(result)
    return 0


async def _make_environment(project: SkillProject, *, quiet: bool) -> EnvironmentReady:
    """Make or find the environment, pip's lines on stderr; SIGTERM stops pip with it."""
    cancel = CancelToken()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, cancel.cancel)
    ready: EnvironmentReady | None = None
    try:
        async for event in flows.make_environment(project, cancel=cancel):
            if isinstance(event, EnvironmentStep):
                print(f"{event.description}...", file=sys.stderr, flush=True)
            elif isinstance(event, EnvironmentLog):
                print(f"  {event.line}", file=sys.stderr, flush=True)
            elif isinstance(event, EnvironmentReady):
                ready = event
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
    assert ready is not None  # the stream ends with it, or raises
    if not quiet:
        environment = ready.environment
        path = shown(environment.root)
        if ready.created:
            said = f"Made the environment {path} in {ready.duration:.1f} s"
        else:
            said = _FOUND[environment.origin].format(path=path)
        print(f"{said} ({environment.describe()}); builds of {project.module} use it.")
    return ready


def _environment_json(
    environment: Environment | None, ready: EnvironmentReady | None = None
) -> dict[str, Any]:
    """The environment's part of the JSON: the same keys whether there is one or not."""
    return {
        "environment": str(environment.root) if environment else None,
        "origin": environment.origin if environment else None,
        "created": ready.created if ready else False,
        "python": environment.python_version if environment else None,
        "pharia_skill": environment.pharia_skill if environment else None,
        "componentize_py": environment.componentize_py if environment else None,
        "package": environment.package if environment else None,
        "duration": round(ready.duration, 3) if ready else None,
    }


def _error_json(error: WorkbenchError) -> dict[str, str]:
    return {"kind": error.kind, "message": str(error)}
