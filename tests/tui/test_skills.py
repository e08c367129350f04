"""The kernel's worlds in the app, with real SDK builds: a message stream growing on the Output
tab while the skill still runs, CSI calls in the trace as text, the Skill tab, an input the
skill's schema refuses, and a component file opened on its own."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from textual.message import Message
from textual.widgets import DataTable, Input, Static
from textual.widgets._footer import FooterKey

from tests.conftest import DATA, copy_project
from tests.tui.conftest import SIZE, abbreviates, app_for, notifications, settle, until
from workbench.project.model import SkillProject
from workbench.tui.screens.component import ComponentScreen
from workbench.tui.screens.dialogs import RunDetails
from workbench.tui.screens.main import MainScreen
from workbench.tui.widgets.trace import FAILED_MARK, NOTES_MARK

#: The echo provider's chat reply: it names the model and quotes the last user message.
ECHO_CHAT = "[echo: model 'llama-3.1-8b-instruct' received this message]\n"


def output_text(screen: MainScreen) -> str:
    return str(screen.query_one("#output", Static).content)


@pytest.fixture
def stream_copy(sdk_stream_build: tuple[SkillProject, Path], tmp_path: Path) -> Path:
    return copy_project(sdk_stream_build[0].root, tmp_path / "sdk_stream", with_wit=False)


@pytest.fixture
def skill_copy(sdk_skill_build: tuple[SkillProject, Path], tmp_path: Path) -> Path:
    return copy_project(sdk_skill_build[0].root, tmp_path / "sdk_skill", with_wit=False)


async def test_a_message_shows_while_the_skill_still_runs(stream_copy: Path) -> None:
    app = app_for(stream_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        screen.run_panel.input_text = '{"topic": "x", "pause": 2}'
        await pilot.press("f5")
        messages = screen.output.messages
        # The skill writes "first", then sleeps 2 s: "first" is on screen before it ends.
        await until(lambda: "first" in messages.text, within=30)
        seen = time.monotonic()
        assert screen.run_panel.activity == "Running" and len(screen.history) == 0
        assert "then more" not in messages.text
        assert not screen.query_one("#output", Static).display, "no stale output below it"
        await settle(pilot)
        assert time.monotonic() - seen > 1, "the message came before the skill's sleep"

        assert len(screen.history) == 1
        result = screen.history.records[0].result
        assert result.ok and result.output == "first then more"
        assert [e["type"] for e in result.messages] == ["begin", "append", "append", "end"]
        assert messages.text == '[assistant]\nfirst then more\npayload: {\n  "words": 3\n}'
        shown = [str(s.content) for s in messages.query(Static) if s.display]
        assert shown == ["assistant", "first then more", 'payload: {\n  "words": 3\n}']
        history = screen.query_one("#history", DataTable)
        assert history.get_row_at(0)[4:7:2] == ["ok", "first then more"]

        screen.output.show("history")
        history.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RunDetails)
        details = str(app.screen.query_one("#run-details-text", Static).content)
        assert 'messages:\n[assistant]\n  first then more\n  payload: {"words": 3}' in details


async def test_a_streamed_reply_and_its_chat_stream_call(stream_copy: Path) -> None:
    app = app_for(stream_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.run_panel.input_text = '{"topic": "oat milk"}'
        await pilot.press("f5")
        await settle(pilot)
        reply = f"{ECHO_CHAT}Tell me about oat milk"
        assert screen.output.messages.text.startswith(f"[assistant]\n{reply}\npayload:")
        assert screen.history.records[0].result.output == reply

        # The trace shows the chat-stream call as text: the user's message, the reply.
        await pilot.press("alt+t")
        await pilot.pause()
        trace = screen.query_one("#trace", DataTable)
        row = [str(cell) for cell in trace.get_row_at(0)]
        assert row[0:2] == ["", "chat-stream"] and row[3] == "="
        assert abbreviates(row[2], "llama-3.1-8b-instruct")
        assert abbreviates(row[6], "Tell me about oat milk")
        assert abbreviates(row[7], f"{ECHO_CHAT}Tell me about oat milk".replace("\n", " "))
        detail = str(screen.query_one("#trace-detail", Static).content)
        assert "chat-stream (CSI chat_stream)" in detail
        assert "    user: Tell me about oat milk" in detail
        assert f"  text:\n    {ECHO_CHAT.strip()}\n    Tell me about oat milk" in detail
        assert "  finish reason: stop" in detail and "message_append ×" in detail


async def test_a_parameter_the_provider_ignores_is_marked_in_the_trace(skill_copy: Path) -> None:
    app = app_for(skill_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.run_panel.input_text = '{"call": "complete", "text": "Say hi"}'
        await pilot.press("f5")
        await settle(pilot)
        assert screen.history.records[0].result.ok
        await pilot.press("alt+t")
        await pilot.pause()
        row = [str(cell) for cell in screen.query_one("#trace", DataTable).get_row_at(0)]
        assert row[0:2] == [NOTES_MARK, "complete-v2"] and row[6] == "Say hi"
        detail = str(screen.query_one("#trace-detail", Static).content)
        assert "! temperature has no effect: the echo provider always gives" in detail
        assert "  prompt: Say hi" in detail

        # Chunking is served; the search after it finds no documents/ in the project.
        asked = {"namespace": "n", "collection": "c", "long": "x", "size": 4, "query": "q"}
        screen.run_panel.input_text = json.dumps({"call": "everything", "text": json.dumps(asked)})
        await pilot.press("f5")
        await settle(pilot)
        table = screen.query_one("#trace", DataTable)
        rows = [[str(cell) for cell in table.get_row_at(n)] for n in range(table.row_count)]
        assert [row[1] for row in rows] == ["chunk-with-offsets", "search"]
        assert rows[1][0] == FAILED_MARK
        assert abbreviates(rows[1][7], "failed: There is no collection n/c in this project")
        table.move_cursor(row=1)
        await pilot.pause()
        detail = str(screen.query_one("#trace-detail", Static).content)
        assert "error: There is no collection n/c in this project: put its documents" in detail


async def test_the_skill_tab_shows_world_description_and_schemas(skill_copy: Path) -> None:
    app = app_for(skill_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)  # the description is read when the app opens
        screen = app.screen
        await pilot.press("alt+s")
        await pilot.pause()
        panel = screen.output.skill_panel
        assert panel.has_focus
        text = panel.text
        assert "World      pharia:skill@0.3.11/skill" in text
        assert "Kernels    Pharia Kernel 0.13.10 and later" in text
        assert "Component  build/" in text
        assert "Calls one inference function and says what came back." in text
        assert '"required": [\n    "call"\n  ]' in text  # the input schema, pretty
        assert '"answer": {' in text  # the output schema

        # A build that makes a new component describes it again.
        source = skill_copy / "calls.py"
        source.write_text(source.read_text().replace("Calls one", "Now calls one"))
        await until(lambda: "Now calls one" in screen.editor.text_area.text, within=10)
        await pilot.press("f6")
        await settle(pilot)
        assert "Now calls one inference function" in panel.text


async def test_the_skill_tab_of_a_project_not_built_yet_says_so(tmp_path: Path) -> None:
    folder = copy_project(DATA / "skills/raw_v0_4", tmp_path / "raw_v0_4", with_wit=False)
    app = app_for(folder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panel = app.screen.output.skill_panel
        assert panel.text == (
            "build/calls.wasm is not built yet: F6 builds it, then this tab shows its world, "
            "description and schemas."
        )
        assert panel.description is None


async def test_a_message_stream_skill_has_no_metadata_and_says_so(stream_copy: Path) -> None:
    app = app_for(stream_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = app.screen.output.skill_panel.text
        assert "World      pharia:skill@0.3.11/message-stream-skill" in text
        assert "No description and no schemas" in text


async def test_an_input_the_schema_refuses_never_runs(skill_copy: Path) -> None:
    app = app_for(skill_copy)
    messages: list[Message] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.run_panel.input_text = '{"text": "no call"}'
        await pilot.press("f5")
        await settle(pilot)
        said = output_text(screen)
        assert said.startswith("The input does not match the skill's input schema: ")
        assert "'call' is a required property" in said
        assert screen.query_one("#output").has_class("-error")
        field = screen.query_one("#run-input", Input)
        assert field.has_class("-refused")
        assert len(screen.history) == 0 and screen.output.calls == []
        assert any("input schema" in n for n in notifications(messages))

        field.value = '{"call": "chat"}'  # editing it takes the mark away; now it runs
        await pilot.pause()
        assert not field.has_class("-refused")
        await pilot.press("f5")
        await settle(pilot)
        assert len(screen.history) == 1 and screen.history.records[0].result.ok


async def test_text_for_a_json_skill_is_refused_the_same_way(stream_copy: Path) -> None:
    app = app_for(stream_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.run_panel.input_text = "oat milk"
        await pilot.press("f5")
        await settle(pilot)
        assert output_text(screen).startswith("The input is not JSON (")
        assert screen.query_one("#run-input").has_class("-refused")
        assert len(screen.history) == 0


async def test_a_component_file_opens_runs_and_cannot_be_built(
    sdk_stream_build: tuple[SkillProject, Path], tmp_path: Path
) -> None:
    component = tmp_path / "streamer.wasm"
    shutil.copy(sdk_stream_build[1], component)
    app = app_for(component)
    messages: list[Message] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ComponentScreen)
        note = str(screen.query_one("#component-note", Static).content)
        assert note.startswith("streamer.wasm is a component file (read-only)")
        assert "World: pharia:skill@0.3.11/message-stream-skill, a message-stream skill" in note
        assert "F5 runs it" in note
        offered = {key.description for key in screen.query(FooterKey)}
        assert {"Run", "Build", "Quit"} <= offered and not {"Save", "Watch", "Files"} & offered
        assert screen.run_panel.status_text == "Ready: f5 runs it."

        await pilot.press("f6", "f12")
        await pilot.pause()
        said = notifications(messages)
        assert "streamer.wasm is a component file: it cannot be built from here; " in said[-2]
        assert "it cannot be published from here" in said[-1]

        screen.run_panel.input_text = '{"topic": "pears"}'
        await pilot.press("f5")
        await settle(pilot)
        assert f"{ECHO_CHAT}Tell me about pears" in screen.output.messages.text
        assert screen.history.records[0].result.component == component
        assert list(tmp_path.iterdir()) == [component], "nothing built or written beside it"


async def test_a_file_that_is_no_component_says_why(tmp_path: Path) -> None:
    component = tmp_path / "broken.wasm"
    component.write_bytes(b"\0asm not really")
    app = app_for(component)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        note = str(screen.query_one("#component-note", Static).content)
        assert "World: it cannot be read: the Skill tab (alt+s) says why." in note
        problem = screen.output.skill_panel.text
        assert problem.startswith("This component cannot be described: ")
        assert screen.query_one("#skill-info").has_class("-error")


async def test_a_missing_component_file_ends_the_app_with_a_sentence(tmp_path: Path) -> None:
    app = app_for(tmp_path / "gone.wasm")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
    assert app.return_code == 1


async def test_thousands_of_appends_are_all_shown(stream_copy: Path) -> None:
    # How responsive the app stays is measured in bench/ (key echo), not asserted here.
    app = app_for(stream_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        # The echo model streams the reply a word an event: 3,000 appends, each written on.
        screen.run_panel.input_text = json.dumps({"topic": ("oat " * 3000).strip()})
        await pilot.press("f5")
        await settle(pilot)
        result = screen.history.records[0].result
        assert result.ok and len(result.messages) > 3000
        assert screen.output.messages.text.startswith(f"[assistant]\n{result.output}\npayload:")


async def test_a_long_message_is_sealed_line_by_line_and_stays_whole(haiku_copy: Path) -> None:
    app = app_for(haiku_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        output = app.screen.output
        output.start_run()
        lines = [f"line {n} of the message, long enough to need a few of them" for n in range(400)]
        words = [word + " " for line in lines for word in f"{line}\n".split(" ")]
        events = [
            {"type": "begin", "role": "assistant"},
            {"type": "reasoning", "text": "First, "},
            {"type": "reasoning", "text": "think."},
            *({"type": "append", "text": word} for word in words),
            {"type": "end", "payload": None},
            {"type": "begin", "role": "assistant"},
            {"type": "append", "text": "second"},
        ]
        for start in range(0, len(events), 10):  # as a skill writes them, a few at a time
            for event in events[start : start + 10]:
                output.add_message(event)
            await pilot.pause(0)
        await pilot.pause(0.2)
        messages = output.messages
        first = "".join(words)
        said = f"[assistant]\n(reasoning) First, think.\n{first}\n[assistant]\nsecond"
        assert messages.text == said
        box = messages.query(".message").first()
        parts = [str(part.content) for part in box.query(".message-text") if part.display]
        assert len(parts) > 5, "finished lines are sealed into widgets of their own"
        assert "\n".join(parts) == first

        # A whole run at once (its result, after a live view that missed it) shows the same.
        messages.clear()
        messages.show_events(events)
        await pilot.pause(0.2)
        assert messages.text == said
        box = messages.query(".message").first()
        assert [str(p.content) for p in box.query(".message-text") if p.display] == [first]
        assert messages.display and not app.screen.query_one("#output").display


async def test_an_sdk_project_without_an_environment_is_offered_one(
    sdk_environment, tmp_path: Path
) -> None:
    from workbench.tui.screens.dialogs import Choice

    folder = copy_project(DATA / "skills/sdk_skill", tmp_path / "fresh", with_wit=False)
    (folder / "requirements.txt").write_text("pharia-skill==0.20.0\n")
    app = app_for(folder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await until(lambda: isinstance(app.screen, Choice), within=60)
        assert "without an environment" in app.screen.question
        await pilot.click("#later")
        await settle(pilot)
        assert not (folder / ".venv").exists()  # nothing made without asking
        await pilot.press("f6")
        await until(lambda: isinstance(app.screen, Choice), within=60)
        await pilot.click("#make")
        # pip installs from its cache here (the session's environment filled it): seconds.
        await until(lambda: (folder / "build/calls.wasm").exists(), within=240)
        await settle(pilot, rounds=200)
        assert (folder / ".venv/bin/componentize-py").exists()
        screen = app.screen
        assert isinstance(screen, MainScreen)
        from textual.widgets import Log

        log = "\n".join(screen.query_one("#build-log", Log).lines)
        assert "Built in" in log  # the build ran again, with the new environment


@pytest.mark.parametrize("kind", ["openai", "aleph-alpha"])
async def test_sdk_skills_run_in_the_app_against_each_server(
    kind: str, skill_copy: Path, stream_copy: Path
) -> None:
    from tests.servers.model_api import AlephAlphaApi, OpenAIApi, model_server
    from workbench.models.providers import ProviderSettings

    model = "gpt-4o-mini" if kind == "openai" else "luminous-base"
    with model_server(OpenAIApi() if kind == "openai" else AlephAlphaApi()) as server:
        local = ProviderSettings("local", kind, server.base_url)
        for folder, text in (
            (skill_copy, {"call": "completion-stream", "model": model}),
            (stream_copy, {"topic": "oat milk", "model": model}),
        ):
            app = app_for(folder, providers={"local": local}, default_provider="local")
            async with app.run_test(size=SIZE) as pilot:
                await settle(pilot)
                screen = app.screen
                assert isinstance(screen, MainScreen)
                screen.run_panel.input_text = json.dumps(text)
                await pilot.press("f5")
                await settle(pilot, rounds=200)
                (record,) = screen.history.records
                assert record.result.ok, record.result.error
                (call,) = record.result.csi_calls
                assert call.provider == "local" and call.error is None
                assert call.function in ("completion-stream", "chat-stream")
                assert screen.query_one("#trace", DataTable).row_count == 1
        posts = [r.path for r in server.state.requests if r.method == "POST"]
    completions = "/v1/completions" if kind == "openai" else "/complete"
    chat = "/v1/chat/completions" if kind == "openai" else "/chat/completions"
    assert posts == [completions, chat]
