"""The seed's skill.wit and haiku ship verbatim: top-level, in the example, as the template."""

from tests.conftest import REPOSITORY, seed_code_blocks
from workbench.resources import template_module, template_wit


def test_wit_files_are_the_seeds_exactly() -> None:
    wit = seed_code_blocks()["wit"]
    for path in (REPOSITORY / "skill.wit", REPOSITORY / "examples/haiku/skill.wit", template_wit()):
        assert path.read_text() == wit, path


def test_haiku_is_the_seeds_exactly() -> None:
    python = seed_code_blocks()["python"]
    assert (REPOSITORY / "examples/haiku/haiku.py").read_text() == python
    assert template_module().read_text() == python
