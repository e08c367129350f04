"""`workbench publish|tags|login|logout`: the registry side of the command line."""

from __future__ import annotations

import argparse
import sys

from workbench import flows
from workbench.build.builder import BuildFailed
from workbench.cli.output import print_build_event, warning_line
from workbench.errors import UsageError
from workbench.project.model import SkillProject, load_project
from workbench.publish.registry import RegistryCredentials, RegistryTarget
from workbench.publish.steps import (
    BlobSkipped,
    CompatibilityWarning,
    Published,
    UploadProgress,
    default_target,
)


def _target(args: argparse.Namespace, project: SkillProject) -> RegistryTarget:
    saved = project.publish
    return default_target(
        args.registry or saved.registry,
        args.repository or saved.repository,
        args.name or saved.name or project.module,
        getattr(args, "tag", None) or saved.tag,
        insecure=args.insecure or saved.insecure,
        ca_file=args.ca_file or saved.ca_file,
    )


async def publish(args: argparse.Namespace) -> int:
    project = load_project(args.path)
    target = _target(args, project)
    live = sys.stderr.isatty()  # the upload as one line that updates itself
    published: Published | None = None
    async for event in flows.publish(project, target):
        if isinstance(event, flows.BuildEvent):
            print_build_event(event, project, verbose=False, quiet_when_cached=True)
            if isinstance(event, BuildFailed):
                return 1
        elif isinstance(event, flows.ComponentRead) and event.world is not None:
            print(f"{event.world}: loaded by {event.kernels}.", file=sys.stderr)
        elif isinstance(event, CompatibilityWarning):
            warning_line(event.message)
        elif isinstance(event, BlobSkipped):
            print(f"The registry already has the {event.what} blob; skipped.", file=sys.stderr)
        elif isinstance(event, UploadProgress):
            line = (
                f"Uploading {event.what}: {event.sent / 1e6:.1f} of "
                f"{event.total / 1e6:.1f} MB, {event.speed / 1e6:.1f} MB/s"
            )
            if live:
                print(f"\r{line}", end="", file=sys.stderr, flush=True)
            elif event.sent == event.total:
                print(line, file=sys.stderr)
        elif isinstance(event, Published):
            published = event
            if live:
                print(file=sys.stderr)
    assert published is not None
    if published.unchanged:
        print(
            f"{published.reference} already holds exactly this component; nothing changed "
            f"(digest {published.digest})."
        )
    else:
        print(
            f"Published {published.reference}\ndigest {published.digest}\nA kernel that "
            "already loaded this tag may serve its cached copy until it checks the registry "
            "again."
        )
    return 0


async def tags(args: argparse.Namespace) -> int:
    target = _target(args, load_project(args.path))
    async for event in flows.tags(target, delete=args.delete):
        if isinstance(event, flows.TagDeleted):
            print(f"Deleted {event.reference}")
        elif not event.tags:
            print(f"{event.repository} has no tags yet.", file=sys.stderr)
        else:
            print("\n".join(event.tags))
    return 0


async def login(args: argparse.Namespace) -> int:
    import getpass

    username = args.username
    if not username:
        if not sys.stdin.isatty() or args.password_stdin:
            raise UsageError("Pass --username when the token comes from standard input.")
        username = input("User: ").strip()
    if args.password_stdin:
        token = sys.stdin.readline().strip()
    elif sys.stdin.isatty():
        token = getpass.getpass("Token (hidden): ").strip()
    else:
        raise UsageError("No terminal to ask for the token on; pipe it in with --password-stdin.")
    if not token:
        raise UsageError("The token is empty; nothing was saved.")
    target = RegistryTarget(args.registry, "", "", insecure=args.insecure, ca_file=args.ca_file)
    async for event in flows.login(target, RegistryCredentials(username, token)):
        print(f"Logged in to {event.registry} as {event.username}; the token is in the OS keyring.")
    return 0


async def logout(args: argparse.Namespace) -> int:
    async for event in flows.logout(args.registry):
        if event.forgotten:
            print(f"Forgot the credentials for {event.registry}.")
        else:
            print(f"There were no saved credentials for {event.registry}.")
    return 0
