"""The seed's skill.wit and haiku ship verbatim: in the example and as the template."""

from pathlib import Path

import workbench
from tests.conftest import REPOSITORY, seed_code_blocks
from workbench.project.scaffold import TEMPLATES


def test_wit_files_are_the_seeds_exactly() -> None:
    wit = seed_code_blocks()["wit"]
    for path in (REPOSITORY / "examples/haiku/skill.wit", TEMPLATES / "skill.wit"):
        assert path.read_text() == wit, path


def test_haiku_is_the_seeds_exactly() -> None:
    python = seed_code_blocks()["python"]
    assert (REPOSITORY / "examples/haiku/haiku.py").read_text() == python
    assert (TEMPLATES / "haiku.py").read_text() == python


def test_the_template_is_the_packages_own_not_the_editable_example() -> None:
    package = Path(workbench.__file__).resolve().parent
    assert TEMPLATES.is_relative_to(package)
    assert not TEMPLATES.is_relative_to(REPOSITORY / "examples")
