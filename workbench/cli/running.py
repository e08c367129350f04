"""`workbench bindings|build|run|describe|models|key`: the skill's side of the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from workbench import flows
from workbench.build.builder import BuildFailed
from workbench.cli.output import (
    MessagePrinter,
    SkillPrints,
    error_line,
    print_build_event,
    print_json,
    shown,
    terminal_safe,
    warning_line,
)
from workbench.credentials import (
    API_KEY_ENV,
    DOCUMENT_INDEX_ACCOUNT,
    SecretStore,
    provider_account,
)
from workbench.errors import BuildError, UsageError
from workbench.project.model import load_project
from workbench.redact import scrub
from workbench.run.results import RunResult

if TYPE_CHECKING:
    from workbench.models.base import ModelProvider


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
    """Run a project (built first if it changed) or a component file (`FILE.wasm`)."""
    from workbench.project.model import RunDefaults

    component = args.path if args.path.suffix == ".wasm" else None
    if component is not None and not component.is_file():
        raise UsageError(f"There is no component at {component}; give the path of a .wasm file.")
    project = None if component is not None else load_project(args.path)
    defaults = project.run if project is not None else RunDefaults()
    text = args.input if args.input is not None else defaults.input
    if text is None:
        where = "" if project is None else " or set `input` under [run] in workbench.toml"
        raise UsageError(f"No input for the skill; pass --input TEXT{where}.")
    root = project.root if project is not None else Path.cwd()
    provider_name, provider = _open_provider(args, root, record=args.record)
    request = flows.RunRequest(
        input=text,
        model_override=args.model or defaults.model,
        limits=flows.limits_for(defaults, args.timeout, args.memory_limit, args.max_prints),
        provider=provider_name,
    )
    result: RunResult | None = None
    prints = SkillPrints(sys.stderr, raw=args.raw)
    messages = MessagePrinter(sys.stdout, json_lines=args.json, raw=args.raw)
    from workbench.config.user import load_config

    backends = flows.open_backends(load_config(), root)
    events = (
        flows.run(project, request, provider, component=args.component, backends=backends)
        if project is not None
        else flows.run_component(component or args.path, request, provider, backends=backends)
    )
    try:
        async for event in events:
            if isinstance(event, BuildFailed):
                # The same shape as any other failed run, for scripts reading --json.
                assert project is not None
                result = RunResult(input=text, component=project.output, error=event.error)
                result.provider = provider_name
            if isinstance(event, flows.BuildEvent):
                if not args.json and project is not None:
                    print_build_event(event, project, verbose=args.verbose, quiet_when_cached=True)
            elif isinstance(event, flows.SkillOutput) and not args.json:
                prints.write(event.text)
            elif isinstance(event, flows.MessageWritten):
                messages.write(event.event)
            elif isinstance(event, flows.CsiCallMade) and not args.json and args.verbose:
                print(f"[csi] {terminal_safe(event.call.summary)}", file=sys.stderr)
                for note in event.call.notes:
                    print(f"[csi]   {terminal_safe(note)}", file=sys.stderr)
            elif isinstance(event, flows.RunFinished):
                result = event.result
    finally:
        provider.close()
        backends.close()
    assert result is not None
    if args.trace:
        from workbench.csi.record import write_trace

        write_trace(result.csi_calls, args.trace)
    if args.json:
        messages.finish_json(result.to_dict())
    elif result.error is None:
        if result.path == "instant":
            print(
                "(an instant run of the skill's modules; --component runs the built component)",
                file=sys.stderr,
            )
        if result.skill_kind == "message-stream":
            messages.finish()
        else:
            print(result.output if args.raw else terminal_safe(scrub(result.output or "")))
    elif not isinstance(result.error, BuildError):  # the build's own lines said it
        messages.finish()
        details = getattr(result.error, "details", "")
        if details and details.strip() not in result.stderr:
            print(details, file=sys.stderr)
        error_line(str(result.error))
    return 0 if result.ok else 1


async def describe(args: argparse.Namespace) -> int:
    """What a project's component (or a component file) is: world, kernels, metadata."""
    target = args.path if args.path.suffix == ".wasm" else load_project(args.path)
    description = await flows.describe(target)
    if args.json:
        print_json(description.to_dict())
        return 0
    print(f"{shown(description.component)}: {description.world}")
    print(f"Loaded by {description.kernels}.")
    metadata = description.metadata
    if metadata is None:
        print("It says nothing about itself (no metadata in its world).")
        return 0
    print(f"Description: {metadata.description or '(none)'}")
    for title, schema in (("Input", metadata.input_schema), ("Output", metadata.output_schema)):
        print(f"{title} schema:\n{json.dumps(schema, indent=2, ensure_ascii=False)}")
    return 0


def models(args: argparse.Namespace) -> int:
    _, provider = _open_provider(args)
    try:
        for model in provider.list_models():
            print(model)
    finally:
        provider.close()
    return 0


def key(args: argparse.Namespace) -> int:
    import getpass

    from workbench.config.user import load_config
    from workbench.models.providers import settings_for

    if args.provider == DOCUMENT_INDEX_ACCOUNT:  # the Document Index's token, not a model's
        name, account = "the Document Index", DOCUMENT_INDEX_ACCOUNT
    else:
        name = settings_for(args.provider, load_config().providers).name
        account = provider_account(name)
    store = SecretStore()
    if args.action == "delete":
        removed = store.delete(account)
        print(
            f"Forgot the API key of {name}."
            if removed
            else f"There was no API key stored for {name}."
        )
        return 0
    if args.stdin:
        secret = sys.stdin.readline().strip()
    elif sys.stdin.isatty():
        secret = getpass.getpass(f"API key for {name} (hidden): ").strip()
    else:
        raise UsageError("No terminal to ask for the key on; pipe it in with --stdin.")
    if not secret:
        raise UsageError("The key is empty; nothing was saved.")
    store.set(account, secret, env_override=API_KEY_ENV)
    print(f"Saved the API key of {name} in the OS keyring ({store.describe()}).")
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
