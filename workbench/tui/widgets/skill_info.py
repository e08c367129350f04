"""The Skill tab: what the current component is, as the kernel would see it: its world,
which kernels load it, and what it says about itself (description, input and output JSON
schemas). The screen reads it in a worker (`flows.describe`) and hands it over here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, Static

from workbench.flows import SkillDescription
from workbench.tui.text import shown

#: What each kind of skill is, in a few words.
KINDS = {
    "seed": "the seed's text-in, text-out skill",
    "function": "a skill: JSON in, JSON out",
    "message-stream": "a message-stream skill: JSON in, messages out as it writes them",
}


def _schema(schema: Any) -> str:
    if schema is None:
        return "(none given: any JSON)"
    return json.dumps(schema, ensure_ascii=False, indent=2)


def summary_text(description: SkillDescription, root: Path | None = None) -> str:
    """World, kind, kernels and component, one a line (and why there is no metadata)."""
    component = description.component
    if root is not None and component.is_relative_to(root):
        component = component.relative_to(root)
    rows = (
        ("World", description.world),
        ("Kind", KINDS.get(description.kind, description.kind)),
        ("Kernels", description.kernels),
        ("Component", str(component)),
    )
    text = "\n".join(f"{label:<10} {value}" for label, value in rows)
    if description.metadata is None:
        which = "message-stream skills" if description.kind == "message-stream" else "its world"
        text += (
            f"\n\nNo description and no schemas: the kernel reads them only from `skill` "
            f"worlds of pharia:skill@0.3 and later, not from {which}."
        )
    return text


#: (heading, id) of each part of the skill's metadata.
_PARTS = (("Description", "description"), ("Input schema", "input"), ("Output schema", "output"))


class SkillPanel(VerticalScroll):
    """Shows one description, or why there is none."""

    can_focus = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        #: The description on screen, if any.
        self.description: SkillDescription | None = None

    def compose(self) -> ComposeResult:
        yield Static(
            "Build the skill (F6) to see its world, description and schemas here.",
            id="skill-info",
            markup=False,
        )
        for heading, part in _PARTS:
            yield Label(heading, id=f"skill-{part}-heading", classes="skill-heading")
            yield Static("", id=f"skill-{part}", classes="skill-part", markup=False)

    def on_mount(self) -> None:
        self._show_metadata(False)

    def _show_metadata(self, visible: bool) -> None:
        for _heading, part in _PARTS:
            self.query_one(f"#skill-{part}-heading").display = visible
            self.query_one(f"#skill-{part}").display = visible

    @property
    def info(self) -> Static:
        return self.query_one("#skill-info", Static)

    def show_reading(self, component: Path) -> None:
        self.info.update(shown(f"Reading {component.name}…"))

    def show_description(self, description: SkillDescription, root: Path | None = None) -> None:
        self.description = description
        self.info.update(shown(summary_text(description, root)))
        self.info.remove_class("-error")
        metadata = description.metadata
        self._show_metadata(metadata is not None)
        if metadata is not None:
            parts = {
                "description": metadata.description or "(none given)",
                "input": _schema(metadata.input_schema),
                "output": _schema(metadata.output_schema),
            }
            for part, value in parts.items():
                self.query_one(f"#skill-{part}", Static).update(shown(value))

    def show_problem(self, sentence: str) -> None:
        """Why there is no description (not built, not a skill…)."""
        self.description = None
        self.info.update(shown(sentence))
        self.info.add_class("-error")
        self._show_metadata(False)

    @property
    def text(self) -> str:
        """Everything the panel shows, as text."""
        return "\n".join(str(w.content) for w in self.query(Static) if w.display)
