"""`workbench publish|tags|login|logout`: the registry side of the command line."""

from __future__ import annotations

import argparse
import getpass
import sys
import threading

from workbench.errors import WorkbenchError
from workbench.project import SkillProject, load_project
from workbench.publish import (
    BlobSkipped,
    CompatibilityWarning,
    Published,
    PublishEvent,
    UploadProgress,
    default_target,
    registry_credentials,
    remember_target,
)
from workbench.publish import login as save_login
from workbench.publish import logout as forget_login
from workbench.publish import publish as push
from workbench.registry import RegistryCredentials, RegistryTarget, SkillRegistry


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


def _remember(args: argparse.Namespace, project: SkillProject, target: RegistryTarget) -> None:
    """Flags given on the command line become the project's saved target."""
    given = any(
        getattr(args, key, None)
        for key in ("registry", "repository", "name", "tag", "insecure", "ca_file")
    )
    if given:
        remember_target(project, target)


def publish(args: argparse.Namespace) -> int:
    from workbench.builder import is_up_to_date
    from workbench.runtime import SkillRuntime

    project = load_project(args.path)
    if not project.output.exists():
        raise WorkbenchError(
            f"There is no component to publish yet; build it first (`workbench build {args.path}`)."
        )
    if not is_up_to_date(project):
        print(
            "warning: the sources changed since the last build; publishing the last built "
            "component (run `workbench build` first to publish the changes).",
            file=sys.stderr,
        )
    target = _target(args, project)
    imports, exports = SkillRuntime().component_interface(project.output)
    credentials = registry_credentials(target.registry)
    result = push(project.output, imports, exports, target, credentials, on_event=_ProgressLine())
    _remember(args, project, target)
    if result.unchanged:
        print(
            f"{result.reference} already holds exactly this component; nothing changed "
            f"(digest {result.digest})."
        )
    else:
        print(
            f"Published {result.reference}\ndigest {result.digest}\nA kernel that already "
            "loaded this tag may serve its cached copy until it checks the registry again."
        )
    return 0


class _ProgressLine:
    """Publish events on stderr; the upload as one line that updates itself on a terminal."""

    def __init__(self) -> None:
        self._live = sys.stderr.isatty()
        self._lock = threading.Lock()

    def __call__(self, event: PublishEvent) -> None:
        with self._lock:
            if isinstance(event, CompatibilityWarning):
                print(f"warning: {event.message}", file=sys.stderr)
            elif isinstance(event, BlobSkipped):
                print(f"The registry already has the {event.what} blob; skipped.", file=sys.stderr)
            elif isinstance(event, UploadProgress):
                line = (
                    f"Uploading {event.what}: {event.sent / 1e6:.1f} of "
                    f"{event.total / 1e6:.1f} MB, {event.speed / 1e6:.1f} MB/s"
                )
                if self._live:
                    print(f"\r{line}", end="", file=sys.stderr, flush=True)
                elif event.sent == event.total:
                    print(line, file=sys.stderr)
            elif isinstance(event, Published) and self._live:
                print(file=sys.stderr)


def tags(args: argparse.Namespace) -> int:
    project = load_project(args.path)
    target = _target(args, project)
    registry = SkillRegistry(target, registry_credentials(target.registry))
    if args.delete:
        registry.remove_tag(args.delete)
        print(f"Deleted {target.registry}/{target.path}:{args.delete}")
        return 0
    found = registry.tags()
    if not found:
        print(f"{target.registry}/{target.path} has no tags yet.", file=sys.stderr)
    for tag in found:
        print(tag)
    return 0


def login(args: argparse.Namespace) -> int:
    username = args.username
    if not username:
        if not sys.stdin.isatty() or args.password_stdin:
            raise WorkbenchError("Pass --username when the token comes from standard input.")
        username = input("User: ").strip()
    if args.password_stdin:
        token = sys.stdin.readline().strip()
    elif sys.stdin.isatty():
        token = getpass.getpass("Token (hidden): ").strip()
    else:
        raise WorkbenchError(
            "No terminal to ask for the token on; pipe it in with --password-stdin."
        )
    if not token:
        raise WorkbenchError("The token is empty; nothing was saved.")
    target = RegistryTarget(args.registry, "", "", insecure=args.insecure, ca_file=args.ca_file)
    save_login(target, RegistryCredentials(username, token))
    print(f"Logged in to {args.registry} as {username}; the token is in the OS keyring.")
    return 0


def logout(args: argparse.Namespace) -> int:
    if forget_login(args.registry):
        print(f"Forgot the credentials for {args.registry}.")
    else:
        print(f"There were no saved credentials for {args.registry}.")
    return 0
