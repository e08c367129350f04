"""`workbench new|bindings|build|run|models|key`: the skill's side of the command line."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from workbench import flows
from workbench.build.builder import BuildFailed
from workbench.cli.output import (
    SkillPrints,
    error_line,
    print_build_event,
    print_json,
    shown,
    terminal_safe,
    warning_line,
)
from workbench.credentials import API_KEY_ENV, SecretStore, provider_account
from workbench.errors import BuildError, UsageError
from workbench.models.base import ModelProvider
from workbench.project.model import load_project
from workbench.redact import scrub
from workbench.run.runtime import RunResult


def new(args: argparse.Namespace) -> int:
    from workbench.project.scaffold import create_project

    directory = create_project(args.name, args.directory)
    print(f"Created the skill project {directory}")
    print(f"Next: workbench run {shown(directory)} --input 'oak trees'")
    return 0


async def bindings(args: argparse.Namespace) -> int:
    from workbench.build.builder import write_bindings

    written = await write_bindings(load_project(args.path))
    print(f"Wrote stub bindings to {shown(written)}")
    return 0


async def build(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from workbench.errors import BuildCancelled
    from workbench.project.model import with_output

    project = load_project(args.path)
    if args.output is not None:
        project = with_output(project, args.output)
    # SIGTERM would end the workbench at once and leave componentize-py running, orphaned:
    # cancel instead, so the builder's cleanup stops its whole process group first.
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    terminated = False

    def on_sigterm() -> None:
        nonlocal terminated
        terminated = True
        if task is not None:
            task.cancel()

    loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    ok = True
    try:
        async for event in flows.build(project, force=args.force):
            print_build_event(event, project, verbose=args.verbose)
            ok = not isinstance(event, BuildFailed)
    except asyncio.CancelledError:
        if not terminated or task is None:
            raise
        task.uncancel()
        raise BuildCancelled(
            "The build was stopped by SIGTERM, and componentize-py with it; the last good "
            "component is kept."
        ) from None
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
    return 0 if ok else 1


async def run(args: argparse.Namespace) -> int:
    from workbench.run.csi import write_trace

    project = load_project(args.path)
    text = args.input if args.input is not None else project.run.input
    if text is None:
        raise UsageError(
            "No input for the skill; pass --input TEXT or set `input` under [run] in "
            "workbench.toml."
        )
    provider_name, provider = _open_provider(args, project.root, record=args.record)
    request = flows.RunRequest(
        input=text,
        model_override=args.model or project.run.model,
        limits=flows.limits_for(project, args.timeout, args.memory_limit, args.max_prints),
        provider=provider_name,
    )
    result: RunResult | None = None
    prints = SkillPrints(sys.stderr, raw=args.raw)
    try:
        async for event in flows.run(project, request, provider):
            if isinstance(event, BuildFailed):
                # The same shape as any other failed run, for scripts reading --json.
                result = RunResult(input=text, component=project.output, error=event.error)
                result.provider = provider_name
            if isinstance(event, flows.BuildEvent):
                if not args.json:
                    print_build_event(event, project, verbose=args.verbose, quiet_when_cached=True)
            elif isinstance(event, flows.SkillOutput) and not args.json:
                prints.write(event.text)
            elif isinstance(event, flows.CsiCallMade) and not args.json and args.verbose:
                call = event.call
                print(
                    f"[csi] {call.function} model={call.model_served} "
                    f"({call.duration * 1000:.1f} ms)",
                    file=sys.stderr,
                )
            elif isinstance(event, flows.RunFinished):
                result = event.result
    finally:
        provider.close()
    assert result is not None
    if args.trace:
        write_trace(result.csi_calls, args.trace)
    if args.json:
        print_json(result.to_dict())
    elif result.error is None:
        print(result.output if args.raw else terminal_safe(scrub(result.output or "")))
    elif not isinstance(result.error, BuildError):  # the build's own lines said it
        details = getattr(result.error, "details", "")
        if details and details.strip() not in result.stderr:
            print(details, file=sys.stderr)
        error_line(str(result.error))
    return 0 if result.ok else 1


def models(args: argparse.Namespace) -> int:
    _, provider = _open_provider(args)
    try:
        for model in provider.list_models():
            print(model)
    finally:
        provider.close()
    return 0


def key(args: argparse.Namespace) -> int:
    from workbench.config.user import load_config
    from workbench.models.providers import settings_for

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
        raise UsageError("No terminal to ask for the key on; pipe it in with --stdin.")
    if not secret:
        raise UsageError("The key is empty; nothing was saved.")
    store.set(account, secret, env_override=API_KEY_ENV)
    print(f"Saved the API key of {settings.name} in the OS keyring ({store.describe()}).")
    return 0


def _open_provider(
    args: argparse.Namespace, project_root: Path | None = None, record: bool = False
) -> tuple[str, ModelProvider]:
    from workbench.config.user import load_config
    from workbench.models.providers import open_provider, settings_for

    config = load_config()
    settings = settings_for(
        args.provider or config.default_provider, config.providers, args.base_url
    )
    resolved = open_provider(settings, project_root=project_root, record=record)
    for warning in resolved.warnings:
        warning_line(warning)
    return settings.name, resolved.provider
