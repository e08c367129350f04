"""The README opens with the two set-up commands, and CI runs exactly the second."""

import re

from tests.conftest import REPOSITORY


def test_ci_runs_the_readmes_test_command() -> None:
    readme = (REPOSITORY / "README.md").read_text()
    commands = re.findall(r"```sh\n(.+?)\n```", readme)
    install_and_run, test = commands[:2]
    assert "pip install" in install_and_run and "workbench" in install_and_run
    assert "pytest" in test
    ci = (REPOSITORY / ".ci/run").read_text().splitlines()
    assert ci[-1] == test
