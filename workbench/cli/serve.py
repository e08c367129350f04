"""`workbench serve`: the Pharia Kernel's HTTP API on this machine, for the skills at hand.

Local projects are served in one namespace (`local`), each named by its folder, and built
(or run instantly) when their sources change; a kernel namespace file adds skills pulled
from OCI registries. The SDK's `DevCsi` finds the CSI at the same address
(`PHARIA_KERNEL_ADDRESS`), and the spans its OpenTelemetry exporter sends on the OTLP/HTTP
port (4318, where it sends them unless told otherwise) or at /v1/traces. Each request and
each batch of spans is printed as it arrives; Ctrl+C stops.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
from pathlib import Path
from types import FrameType
from typing import Any

from workbench.cli.output import terminal_safe, warning_line
from workbench.errors import UsageError
from workbench.redact import remember_secret, scrub

#: The bearer token, when not on the command line (where `ps` shows it).
TOKEN_ENV = "WORKBENCH_SERVE_TOKEN"
#: Where pulled components go in the first project: inside its build/ folder.
PULLED_DIR = "pulled"


def add_parsers(subparsers: Any) -> None:
    # Only the light module of constants: the parser is built for every command.
    from workbench.serve.kernel import DEFAULT_HOST, DEFAULT_NAMESPACE, DEFAULT_PORT

    serve = subparsers.add_parser(
        "serve",
        help="serve skills over the Pharia Kernel's HTTP API on this machine",
        description="Serve skills as a Pharia Kernel does: /v1/skills/NAMESPACE/NAME/run, "
        "/message-stream, /metadata, /v1/skills, /health, and the CSI at /csi/v1 (for the "
        "SDK's DevCsi). Each project is served in the namespace `local` under its folder's "
        "name, built or run instantly when its sources change; a kernel namespace file adds "
        "skills pulled from OCI registries with `workbench login`'s credentials.",
    )
    serve.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="skill projects (or .wasm component files) to serve (default: this folder, "
        "unless --namespaces is given)",
    )
    serve.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}, as a kernel"
    )
    serve.add_argument(
        "--otlp-port",
        type=_port,
        metavar="PORT",
        help="where OpenTelemetry traces (OTLP/HTTP, from the SDK's DevCsi) are taken too, "
        "beside /v1/traces on --port (default 4318, the exporters' default, when free; "
        "0: only on --port)",
    )
    serve.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"the address to listen on (default {DEFAULT_HOST}: this machine only)",
    )
    serve.add_argument(
        "--token",
        help=f"require `Authorization: Bearer TOKEN` on /v1 and /csi (or set {TOKEN_ENV}); "
        "without one any caller is let in, as by a kernel without IAM",
    )
    serve.add_argument(
        "--namespaces",
        type=Path,
        metavar="FILE",
        help="a kernel namespace config (TOML: [namespaces.NAME] with registry, "
        "base-repository and skills = [{ name, tag }], or a config-url, path or directory)",
    )
    serve.add_argument(
        "--namespace",
        default=DEFAULT_NAMESPACE,
        metavar="NAME",
        help=f"the namespace the projects are served in (default {DEFAULT_NAMESPACE})",
    )
    serve.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        help="where components pulled from a registry are kept (default: the first "
        f"project's build/{PULLED_DIR})",
    )
    serve.add_argument(
        "--provider",
        "-p",
        metavar="NAME",
        help="the model provider for the skills' CSI (default: the config's "
        "default-provider, else echo)",
    )
    serve.add_argument(
        "--base-url",
        metavar="URL",
        help="the provider's server, e.g. http://localhost:11434/v1 for Ollama",
    )


def serve(args: argparse.Namespace) -> int:
    # SIGTERM stops as Ctrl+C does, from the first moment: the same clean end.
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        _serve(args)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    print("Stopped.")
    return 0


def _serve(args: argparse.Namespace) -> None:
    from workbench import flows
    from workbench.config.user import load_config
    from workbench.models.providers import open_provider, settings_for
    from workbench.serve.app import make_app, make_otlp_app
    from workbench.serve.log import RequestLog
    from workbench.serve.namespaces import Namespaces, read_namespace_file
    from workbench.serve.otlp import SpanLog, summary
    from workbench.serve.runs import SkillServer
    from workbench.serve.server import bind, serve_here, url_of

    token = args.token or os.environ.get(TOKEN_ENV) or None
    remember_secret(token)
    sources = read_namespace_file(args.namespaces) if args.namespaces else []
    paths = args.paths or ([] if args.namespaces else [Path(".")])
    namespaces = Namespaces(paths, args.namespace, sources)
    first = namespaces.first_project
    cache = args.cache or (first.root / "build" / PULLED_DIR if first else None)
    if cache is None and any(source.registry for source in sources):
        raise UsageError(
            "Skills from a registry need a folder to be kept in; pass --cache DIR, or serve "
            "a project too (its build/ folder is used)."
        )
    if args.host not in ("127.0.0.1", "localhost", "::1") and token is None:
        warning_line(
            f"Listening on {args.host} without --token: anyone who can reach it can run the "
            "skills, on your model provider's account."
        )

    config = load_config()
    home = first.root if first else Path.cwd()
    name = args.provider or config.default_provider
    settings = settings_for(name, config.providers, args.base_url)
    resolved = open_provider(settings, project_root=home)
    for warning in resolved.warnings:
        warning_line(warning)
    server = SkillServer(
        namespaces,
        resolved.provider,
        settings.name,
        lambda root: flows.open_backends(config, root),
        cache,
    )
    log = RequestLog()
    log.listen(lambda entry: print(terminal_safe(scrub(entry.summary)), flush=True))
    spans = SpanLog()
    spans.listen(lambda batch: print(terminal_safe(f"[otel] {summary(batch)}"), flush=True))
    try:
        sock = bind(args.host, args.port)
        try:
            otlp_sock = _otlp_socket(args.host, args.port, args.otlp_port)
        except UsageError:
            sock.close()
            raise
        _quiet_workers()
        _say_ready(
            url_of(sock),
            url_of(otlp_sock) if otlp_sock else None,
            sorted(namespaces.skills()),
            settings.name,
            token is not None,
        )
        serve_here(
            make_app(server, token=token, log=log, spans=spans),
            sock,
            make_otlp_app(spans, token=token) if otlp_sock else None,
            otlp_sock,
        )
    finally:
        server.close()


def _otlp_socket(host: str, port: int, otlp_port: int | None) -> socket.socket | None:
    """The OTLP listener's socket; None for --otlp-port 0, or when the default port is
    taken (a collector of the developer's own, say: it keeps the SDK's traces)."""
    from workbench.serve.otlp import DEFAULT_OTLP_PORT
    from workbench.serve.server import bind

    if otlp_port == 0 or (otlp_port is None and port == DEFAULT_OTLP_PORT):
        return None
    if otlp_port is not None:
        return bind(host, otlp_port, "--otlp-port")
    try:
        return bind(host, DEFAULT_OTLP_PORT, "--otlp-port")
    except UsageError as error:
        warning_line(f"No OTLP listener of its own: {error} Traces are taken at /v1/traces.")
        return None


def _say_ready(
    url: str, otlp_url: str | None, skills: list[str], provider: str, guarded: bool
) -> None:
    from workbench.serve.otlp import DEFAULT_OTLP_PORT

    print(f"Serving the Pharia Kernel API at {url} (models: {provider}).")
    for name in skills:
        print(f"  POST {url}/v1/skills/{terminal_safe(name)}/run")
    if not skills:
        print("  (no skills yet)")
    # On the DevCsi's line, so the lines before the log stay as they were.
    if otlp_url is not None and otlp_url.endswith(f":{DEFAULT_OTLP_PORT}"):
        spans = f"its spans are taken at {otlp_url}/v1/traces (its default) and {url}/v1/traces"
    elif otlp_url is not None:
        spans = f"for its spans OTEL_EXPORTER_OTLP_ENDPOINT={otlp_url} (or {url})"
    else:
        spans = f"for its spans OTEL_EXPORTER_OTLP_ENDPOINT={url}"
    print(f"For the SDK's DevCsi: PHARIA_KERNEL_ADDRESS={url}; {spans}")
    if guarded:
        print(
            "Requests to /v1 and /csi need `Authorization: Bearer <the token>` (traces too: "
            'OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer <the token>").'
        )
    print("Ctrl+C stops.", flush=True)


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _quiet_workers() -> None:
    """Start the runner's processes with SIGINT ignored, so that Ctrl+C in the terminal
    (sent to every process of the foreground group) stops the server, which then stops
    them, instead of printing each idle worker's KeyboardInterrupt traceback."""
    from workbench.run.pool import shared_pool

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        shared_pool()  # its fork server and spare worker inherit the ignored SIGINT
    finally:
        signal.signal(signal.SIGINT, previous)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("must be between 0 and 65535")
    return port
