"""`workbench serve`: the kernel's HTTP API on loopback, served in a background thread with
the real runner, called with httpx as a kernel's clients call it. Skills: the bundled haiku
(the seed's world), an SDK `@skill` and an SDK `@message_stream`, each built once a session;
one published with `workbench publish` to a real registry and pulled from a namespace file."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import copy_project, run_workbench, sse_events
from tests.servers.oci_registry import PASSWORD, USER, RunningRegistry, oci_registry
from workbench import flows
from workbench.config.user import load_config
from workbench.errors import ConfigError
from workbench.models.echo import EchoProvider
from workbench.serve import kernel
from workbench.serve.app import make_app
from workbench.serve.log import RequestLog
from workbench.serve.namespaces import Namespaces, RegistrySkill, read_namespace_file
from workbench.serve.runs import SkillServer
from workbench.serve.server import BackgroundServer, serve_in_background

JSON = {"content-type": "application/json"}


def skill_server(projects: list[Path], sources: Any = (), cache: Path | None = None) -> SkillServer:
    return SkillServer(
        Namespaces(projects, "local", sources),
        EchoProvider("echo"),
        "echo",
        lambda root: flows.open_backends(load_config(), root),
        cache,
    )


@pytest.fixture(scope="module")
def served(
    haiku_project, sdk_skill_build, sdk_stream_build
) -> Iterator[tuple[str, RequestLog, SkillServer]]:
    projects = [haiku_project.root, sdk_skill_build[0].root, sdk_stream_build[0].root]
    log = RequestLog()
    server = skill_server(projects)
    with serve_in_background(make_app(server, log=log)) as running:
        yield running.url, log, server
    server.close()


@pytest.fixture
def client(served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served[0], timeout=120) as client:
        yield client


def test_health_and_the_skills_listed(client) -> None:
    health = client.get("/health")
    assert (health.status_code, health.text) == (200, "ok")
    listed = client.get("/v1/skills")
    assert listed.json() == ["local/haiku", "local/sdk_skill", "local/sdk_stream"]


def test_metadata_as_the_kernel_says_it(client) -> None:
    assert client.get("/v1/skills/local/haiku/metadata").json() == {
        "description": None,
        "version": None,
        "skill_type": "function",
        "input_schema": None,
        "output_schema": None,
    }
    sdk = client.get("/v1/skills/local/sdk_skill/metadata").json()
    assert list(sdk) == ["description", "version", "skill_type", "input_schema", "output_schema"]
    assert sdk["description"] == "Calls one inference function and says what came back."
    assert (sdk["version"], sdk["skill_type"]) == ("0.3", "function")
    assert sdk["input_schema"]["required"] == ["call"]
    assert sdk["output_schema"]["properties"]["answer"]["type"] == "string"
    stream = client.get("/v1/skills/local/sdk_stream/metadata").json()
    assert stream["skill_type"] == "message_stream" and stream["input_schema"] is None


def test_runs_answer_the_skills_json(client, served) -> None:
    haiku = client.post("/v1/skills/local/haiku/run", json="oak trees")
    assert haiku.status_code == 200 and haiku.headers["content-type"] == "application/json"
    assert "Write a haiku about oak trees" in haiku.json()  # the seed's text, as a JSON string

    sdk = client.post("/v1/skills/local/sdk_skill/run", json={"call": "chat", "text": "hi"})
    assert sdk.status_code == 200, sdk.text
    assert set(sdk.json()) == {"answer"} and sdk.json()["answer"].endswith("|stop")

    logged = [e for e in served[1].entries() if e.path == "/v1/skills/local/sdk_skill/run"]
    assert logged[-1].status == 200 and logged[-1].skill == "local/sdk_skill"
    assert [call.csi for call in logged[-1].csi_calls] == ["chat"]
    assert "no token" in logged[-1].caller


def test_what_the_kernel_refuses_is_said_in_its_words(client) -> None:
    schema = client.post("/v1/skills/local/sdk_skill/run", json={"text": 1})
    assert schema.status_code == 400
    assert schema.text.startswith("The skill had trouble interpreting the input:\n\n")
    assert "'call' is a required property" in schema.text

    seed = client.post("/v1/skills/local/haiku/run", json={"topic": "oak"})
    assert (seed.status_code, seed.text) == (
        400,
        "The skill had trouble interpreting the input:\n\nInvalid input, string expected.",
    )

    raised = client.post("/v1/skills/local/sdk_skill/run", json={"call": "fail", "text": "x"})
    assert raised.status_code == 400
    assert raised.text.startswith(kernel.user_code(""))
    assert "ValueError: cannot handle 'x'" in raised.text

    unknown = client.post("/v1/skills/local/nothing/run", json={})
    assert (unknown.status_code, unknown.text) == (400, kernel.SKILL_NOT_CONFIGURED)
    bad = client.post("/v1/skills/Not_Kebab/haiku/run", json="x")
    assert bad.status_code == 400 and bad.text.startswith("Invalid URL: Invalid namespace")
    not_json = client.post("/v1/skills/local/haiku/run", content=b"{oops", headers=JSON)
    assert not_json.status_code == 400
    assert not_json.text.startswith("Failed to parse the request body as JSON: ")
    untyped = client.post("/v1/skills/local/haiku/run", content=b'"oak"')
    assert (untyped.status_code, untyped.text) == (415, kernel.JSON_CONTENT_TYPE)

    streamed = client.post("/v1/skills/local/sdk_stream/run", json={"topic": "x"})
    assert (streamed.status_code, streamed.text) == (400, kernel.IS_MESSAGE_STREAM)
    function = client.post("/v1/skills/local/haiku/message-stream", json="x")
    assert function.status_code == 200
    assert sse_events(function.text) == [("error", {"message": kernel.IS_FUNCTION})]
    missing = client.post("/v1/skills/local/nothing/message-stream", json={})
    assert sse_events(missing.text) == [("error", {"message": kernel.SKILL_NOT_CONFIGURED})]


def test_a_message_stream_is_the_kernels_events(client) -> None:
    answer = client.post("/v1/skills/local/sdk_stream/message-stream", json={"topic": "oat milk"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    assert answer.text.startswith('event: message\ndata: {"type":"begin"}\n\n')
    events = sse_events(answer.text)
    assert {name for name, _ in events} == {"message"}
    kinds = [data["type"] for _, data in events]
    assert kinds[0] == "begin" and kinds[-1] == "end" and set(kinds[1:-1]) == {"append"}
    text = "".join(data["text"] for _, data in events if data["type"] == "append")
    assert "Tell me about oat milk" in text
    assert events[-1][1] == {"type": "end", "payload": {"words": len(text.split())}}

    invalid = client.post("/v1/skills/local/sdk_stream/message-stream", json={"pause": 1})
    ((name, data),) = sse_events(invalid.text)
    assert name == "error" and data["message"].startswith(kernel.invalid_input(""))


def test_tool_events_are_streamed_as_the_kernel_streams_them(sdk_stream_build) -> None:
    from tests.servers.mcp_server import mcp_server, tools
    from workbench.csi.backends import CsiBackends
    from workbench.tools import ToolBox

    with mcp_server(tools) as mcp, ToolBox([mcp.url], timeout=10) as box:
        server = SkillServer(
            Namespaces([sdk_stream_build[0].root]),
            EchoProvider("echo"),
            "echo",
            lambda root: CsiBackends(tools=box),
        )
        with serve_in_background(make_app(server)) as running:
            answer = httpx.post(
                f"{running.url}/v1/skills/local/sdk_stream/message-stream",
                json={"topic": "tools"},
                timeout=120,
            )
    events = sse_events(answer.text)
    tool_events = [data for name, data in events if name == "tool"]
    assert tool_events[:3] == [
        {"type": "begin", "name": "add"},
        {"type": "begin", "name": "fail"},
        {"type": "end", "name": "add"},
    ]
    assert tool_events[3]["type"] == "error" and tool_events[3]["name"] == "fail"
    assert [name for name, _ in events[4:]] == ["message"] * 4  # begin, 2 appends, end
    said = [data["text"] for _, data in events[5:7]]
    assert said[0] == "5\n" and said[1].startswith("error: ")


def test_events_arrive_as_the_skill_writes_them(served) -> None:
    url, log, server = served
    path = "/v1/skills/local/sdk_stream/message-stream"
    answered = len([e for e in log.entries() if e.path == path])
    # The skill writes "first", then sleeps a minute: what arrives before it wakes was
    # sent as written; closing the stream then stops the skill.
    with (
        httpx.Client(base_url=url, timeout=120) as client,
        client.stream("POST", path, json={"topic": "x", "pause": 60}) as answer,
    ):
        lines = answer.iter_lines()
        assert [next(lines) for _ in range(6)] == [
            "event: message",
            'data: {"type":"begin"}',
            "",
            "event: message",
            'data: {"type":"append","text":"first"}',
            "",
        ]
        assert len([e for e in log.entries() if e.path == path]) == answered, "still going"
        assert server.runner.running, "the skill is still asleep in its worker"
    for _ in range(400):  # the client is gone: the run is stopped and its worker freed
        if not server.runner.running and len(log.entries()) and log.entries()[-1].path == path:
            break
        time.sleep(0.05)
    assert not server.runner.running
    assert log.entries()[-1].path == path


def test_32_runs_at_once_each_get_their_own_output(served) -> None:
    async def all_at_once() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=served[0], timeout=300) as client:
            return await asyncio.gather(
                *(
                    client.post("/v1/skills/local/haiku/run", json=f"topic number {n}")
                    for n in range(32)
                )
            )

    answers = asyncio.run(all_at_once())
    assert [a.status_code for a in answers] == [200] * 32
    for n, answer in enumerate(answers):
        assert f"Write a haiku about topic number {n}\n" in answer.json()


def test_a_token_guards_v1_and_csi_but_not_health(haiku_project) -> None:
    token = "serve-test-token-7f3e"
    log = RequestLog()
    server = skill_server([haiku_project.root])
    with (
        serve_in_background(make_app(server, token=token, log=log)) as running,
        httpx.Client(base_url=running.url, timeout=60) as client,
    ):
        assert client.get("/health").status_code == 200
        missing = client.get("/v1/skills")
        assert (missing.status_code, missing.text) == (401, "Bearer token expected")
        wrong = client.get("/v1/skills", headers={"Authorization": "Bearer nope"})
        assert (wrong.status_code, wrong.text) == (401, "Bearer token invalid")
        csi = client.post("/csi/v1/complete", json=[])
        assert (csi.status_code, csi.text) == (401, "Bearer token expected")
        good = {"Authorization": f"Bearer {token}"}
        assert client.get("/v1/skills", headers=good).json() == ["local/haiku"]
        ran = client.post("/v1/skills/local/haiku/run", json="rain", headers=good)
        assert ran.status_code == 200
        params = {"return_special_tokens": False, "stop": [], "logprobs": "no"}
        asked = [{"model": "m", "prompt": "Say hi", "params": params}]
        completed = client.post("/csi/v1/complete", json=asked, headers=good)
        assert completed.status_code == 200 and completed.json()[0]["finish_reason"]
    server.close()
    csi = log.entries()[-1]
    assert csi.path == "/csi/v1/complete" and [c.csi for c in csi.csi_calls] == ["complete"]
    callers = [entry.caller for entry in log.entries()]
    assert callers[1].endswith("no token") and " token " in callers[2]
    assert callers[-1] == callers[-2] != callers[2], "one token, one name; another, another"
    assert all(token not in json.dumps(e.to_dict()) for e in log.entries())


# A skill from a registry, as a kernel pulls it --------------------------------------------
@pytest.fixture(scope="module")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    with oci_registry(tmp_path_factory.mktemp("serve-registry"), tls=True) as running:
        yield running


def test_a_published_skill_is_pulled_from_the_namespace_file_and_run(
    secret_service, tls_registry, haiku_project, tmp_path: Path
) -> None:
    project = copy_project(haiku_project.root, tmp_path / "work" / "haiku")
    ca = str(tls_registry.ca_file)
    published = run_workbench(
        "publish", project, "-R", tls_registry.host, "-r", "team/skills", "--ca-file", ca,
        "--tag", "v1", env={"SKILL_REGISTRY_USER": USER, "SKILL_REGISTRY_TOKEN": PASSWORD},
    )  # fmt: skip
    assert published.returncode == 0, published.stderr
    logged_in = run_workbench(
        "login", tls_registry.host, "-u", USER, "--password-stdin", "--ca-file", ca,
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert logged_in.returncode == 0, logged_in.stderr

    namespaces = tmp_path / "config.toml"
    namespaces.write_text(
        f'[namespaces.team]\nregistry = "{tls_registry.host}"\n'
        f'base-repository = "/team/skills/"\nca-file = "{ca}"\n'
        'skills = [{ name = "haiku", tag = "v1" }, { name = "gone", tag = "v9" }]\n'
    )
    sources = read_namespace_file(namespaces)
    cache = tmp_path / "cache"
    server = skill_server([], sources, cache)
    skill = server.namespaces.find("team", "haiku")
    assert isinstance(skill, RegistrySkill) and skill.credentials is None  # the keyring's
    assert skill.target.reference == f"{tls_registry.host}/team/skills/haiku:v1"
    with (
        serve_in_background(make_app(server)) as running,
        httpx.Client(base_url=running.url, timeout=120) as client,
    ):
        assert client.get("/v1/skills").json() == ["team/gone", "team/haiku"]
        ran = client.post("/v1/skills/team/haiku/run", json="the registry")
        assert ran.status_code == 200, ran.text
        assert "Write a haiku about the registry" in ran.json()
        again = client.post("/v1/skills/team/haiku/run", json="the cache")
        assert again.status_code == 200
        gone = client.post("/v1/skills/team/gone/run", json="x")
        assert gone.status_code == 503
        assert gone.text == kernel.runtime_error(
            "Error loading skill: Skill team/gone:v9 not found in registry."
        )
    server.close()
    component = (project / "build/haiku.wasm").read_bytes()
    (pulled,) = cache.iterdir()
    assert pulled.suffix == ".wasm" and pulled.read_bytes() == component
    for file in [*cache.rglob("*"), *tmp_path.glob("*.toml")]:
        assert PASSWORD.encode() not in file.read_bytes()


def test_namespace_files_in_the_kernels_format(tmp_path: Path) -> None:
    (tmp_path / "skills").mkdir()
    (tmp_path / "skills" / "one.wasm").write_bytes(b"")
    (tmp_path / "team.toml").write_text('skills = [{ name = "a" }, { name = "b", tag = "v2" }]')
    file = tmp_path / "config.toml"
    file.write_text(
        '[namespaces.watched]\ndirectory = "skills"\n'
        '[namespaces.team]\nconfig-url = "file://team.toml"\nregistry = "r.example"\n'
        'base-repository = "x"\nregistry-user = "u"\nregistry-password = "p"\n'
        '[namespaces.files]\npath = "skills"\nskills = [{ name = "one" }]\n'
    )
    namespaces = Namespaces([], "local", read_namespace_file(file))
    skills = namespaces.skills()
    assert sorted(skills) == ["files/one", "team/a", "team/b", "watched/one"]
    team_b = skills["team/b"]
    assert isinstance(team_b, RegistrySkill) and team_b.target.reference == "r.example/x/b:v2"
    assert team_b.credentials is not None and team_b.credentials.username == "u"

    for text, problem in (
        ('skills = [{ name = "a" }]', "this is a namespace description"),
        ("[namespaces.Team]\ndirectory = 'x'", "is not a namespace name the kernel accepts"),
        ("[namespaces.team]\nskills = []", "`namespaces.team.registry` is missing"),
        ("[namespaces.team]\npath = 'x'\nskills = ['a']", "must hold tables like"),
    ):
        file.write_text(text)
        with pytest.raises(ConfigError, match=problem):
            read_namespace_file(file)


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_stops_the_command_cleanly(haiku_project, stop: str) -> None:
    script = (
        "import argparse, sys\nfrom workbench.cli import serve\n"
        "parser = argparse.ArgumentParser()\nserve.add_parsers(parser.add_subparsers())\n"
        "sys.exit(serve.serve(parser.parse_args(['serve', *sys.argv[1:]])))\n"
    )
    command = [sys.executable, "-c", script, str(haiku_project.root), "--port", "0"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        env={**os.environ, "WORKBENCH_SERVE_TOKEN": "cli-token-41"},
    )
    assert process.stdout is not None
    said = [process.stdout.readline() for _ in range(5)]
    url = said[0].split(" at ")[1].split()[0]
    assert said[1].strip() == f"POST {url}/v1/skills/local/haiku/run"
    headers = {"Authorization": "Bearer cli-token-41"}
    ran = httpx.post(f"{url}/v1/skills/local/haiku/run", json="ctrl", headers=headers, timeout=60)
    assert ran.status_code == 200
    assert process.stdout.readline().startswith("POST /v1/skills/local/haiku/run 200 ")
    if stop == "ctrl-c":
        os.killpg(process.pid, signal.SIGINT)  # Ctrl+C reaches every process of the group
    else:
        process.terminate()
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert out.strip().endswith("Stopped.")
    assert "Traceback" not in err and "cli-token-41" not in out + err


def test_a_component_file_is_served_and_a_port_in_use_is_said(haiku_project) -> None:
    from workbench.errors import UsageError

    server = skill_server([haiku_project.output])  # a .wasm: named by its stem
    first: BackgroundServer = serve_in_background(make_app(server))
    try:
        ran = httpx.post(f"{first.url}/v1/skills/local/haiku/run", json="a file", timeout=60)
        assert ran.status_code == 200 and "Write a haiku about a file" in ran.json()
        port = int(first.url.rsplit(":", 1)[1])
        with pytest.raises(UsageError, match=f"Port {port} on 127.0.0.1 is in use"):
            serve_in_background(make_app(server), port=port)
    finally:
        first.stop()
        server.close()


def test_an_endless_loop_times_out_without_holding_up_the_other_runs(
    haiku_project, behaviours_project, tmp_path
) -> None:
    looping = copy_project(behaviours_project.root, tmp_path / "behaviours", with_wit=False)
    (looping / "workbench.toml").write_text("[run]\ntimeout = 3\n")
    server = skill_server([haiku_project.root, looping])

    async def loop_beside_haikus(url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=300) as client:
            return await asyncio.gather(
                client.post("/v1/skills/local/behaviours/run", json="loop"),
                *(client.post("/v1/skills/local/haiku/run", json=f"topic {n}") for n in range(8)),
            )

    with serve_in_background(make_app(server)) as running:
        loop, *haikus = asyncio.run(loop_beside_haikus(running.url))
    server.close()
    assert loop.status_code == 400, loop.text
    assert "time" in loop.text.lower(), loop.text  # stopped at its own limit
    assert [answer.status_code for answer in haikus] == [200] * 8
    for n, answer in enumerate(haikus):
        assert f"Write a haiku about topic {n}\n" in answer.json()
