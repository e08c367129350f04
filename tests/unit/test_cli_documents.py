"""`workbench docs add|list|search` through the command's own `main`, in a folder that holds
documents only: a documents folder needs no skill project around it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.cli.main import main


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    sources = tmp_path / "sources"
    sources.mkdir()
    leave = sources / "leave.md"
    leave.write_text(
        "# Leave\n\nEvery employee gets 30 days of paid leave.\n\nAsk HR about parental leave.\n",
        encoding="utf-8",
    )
    expenses = sources / "expenses.txt"
    expenses.write_text("Expenses are paid back within 14 days.\n", encoding="utf-8")
    return {"leave": leave, "expenses": expenses}


def docs(project: Path, *args: str) -> int:
    return main(["docs", *args, "--project", str(project)])


def collection(*more: str) -> list[str]:
    return ["--namespace", "acme", "--collection", "handbook", *more]


def test_add_list_and_search(
    tmp_path: Path, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    paths = [str(files["leave"]), str(files["expenses"])]
    assert docs(project, "add", *paths, *collection()) == 0
    out = capsys.readouterr().out
    assert "leave.md as acme/handbook/leave" in out
    assert "expenses.txt as acme/handbook/expenses" in out
    assert (
        (project / "documents/acme/handbook/leave.md")
        .read_text(encoding="utf-8")
        .startswith("# Leave")
    )

    assert docs(project, "list") == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed] == ["acme/handbook/expenses", "acme/handbook/leave"]

    assert docs(project, "search", "paid leave days", *collection()) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith("1. acme/handbook/leave  score ")
    assert "   Every employee gets 30 days of paid leave." in out
    assert (project / "build/documents.sqlite").is_file()


def test_json_output_is_the_csi_shape(
    tmp_path: Path, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    metadata = json.dumps({"year": 2024, "owner": "hr"})
    assert docs(tmp_path, "add", str(files["leave"]), *collection("--metadata", metadata)) == 0
    assert (
        docs(tmp_path, "add", str(files["expenses"]), *collection("--name", "money/expenses")) == 0
    )
    capsys.readouterr()

    assert docs(tmp_path, "list", "--namespace", "acme", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(d["name"], d["metadata_path"] is not None) for d in listed] == [
        ("leave", True),
        ("money/expenses", False),
    ]

    assert docs(tmp_path, "search", "days", *collection("--json", "--max-results", "1")) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert set(result) == {"document_path", "content", "score", "start", "end"}
    assert result["start"]["item"] == 0

    owner = json.dumps({"with": [{"metadata": {"field": "owner", "equal_to": "hr"}}]})
    assert docs(tmp_path, "search", "days", *collection("--json", "--filter", owner)) == 0
    found = json.loads(capsys.readouterr().out)
    assert {r["document_path"]["name"] for r in found} == {"leave"}


def test_the_project_defaults_to_this_folder(
    tmp_path: Path,
    files: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["docs", "add", str(files["leave"]), *collection()]) == 0
    assert "Added documents/acme/handbook/leave.md" in capsys.readouterr().out
    assert main(["docs", "search", "parental", *collection()]) == 0
    assert "Ask HR about parental leave." in capsys.readouterr().out


def test_errors_are_one_line(
    tmp_path: Path, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert docs(tmp_path, "search", "days", *collection()) == 1
    err = capsys.readouterr().err
    assert err == (
        "error: There is no collection acme/handbook in this project: put its documents in "
        "documents/acme/handbook/ as .md or .txt files, or add them with `workbench docs add "
        "FILE --namespace acme --collection handbook`.\n"
    )

    both = [str(files["leave"]), str(files["expenses"])]
    assert docs(tmp_path, "add", *both, *collection("--name", "x")) == 1
    assert "--name names one document" in capsys.readouterr().err

    binary = tmp_path / "image.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff")
    assert docs(tmp_path, "add", str(binary), *collection()) == 1
    assert "is not UTF-8 text" in capsys.readouterr().err

    assert docs(tmp_path / "missing", "list") == 1
    assert "is not a folder" in capsys.readouterr().err

    bad_filter = json.dumps([{"with": [{"metadata": {"field": "a", "near": 1}}]}])
    assert docs(tmp_path, "add", str(files["leave"]), *collection()) == 0
    assert docs(tmp_path, "search", "days", *collection("--filter", bad_filter)) == 1
    assert capsys.readouterr().err.startswith("error: The search's filters cannot be read")


def test_arguments_that_are_not_json_are_usage_errors(
    tmp_path: Path, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        docs(tmp_path, "search", "days", *collection("--filter", "{not json"))
    assert exited.value.code == 2
    assert "not JSON" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        docs(tmp_path, "add", str(files["leave"]), *collection("--metadata", "[1, 2]"))
    assert "must be a JSON object" in capsys.readouterr().err


def test_an_empty_project_lists_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert docs(tmp_path, "list") == 0
    assert capsys.readouterr().out.startswith("No documents yet")
