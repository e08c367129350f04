"""The project's own document index: files under documents/, ranked with SQLite FTS5 (BM25),
answered in the kernel's /csi/v1 shapes, kept current as the files change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workbench.documents.local import INDEX_FILE, LocalDocumentIndex
from workbench.errors import DocumentIndexError

LEAVE = (
    "# Holidays\n\n"
    "Every employee gets 30 days of paid leave per year.\n\n"
    "The office kitchen has coffee and tea.\n"
)


def write(root: Path, name: str, text: str, metadata: Any = None, collection: str = "handbook"):
    path = root / "documents" / "acme" / collection / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if metadata is not None:
        meta = path.with_name(f"{path.stem}.meta.json")
        meta.write_text(json.dumps(metadata), encoding="utf-8")
    return path


@pytest.fixture
def index(tmp_path: Path) -> Iterator[LocalDocumentIndex]:
    write(tmp_path, "leave.md", LEAVE, {"year": 2024, "owner": "hr", "draft": False})
    write(
        tmp_path,
        "expenses.txt",
        "Expenses are paid back within 14 days of the claim.",
        {"year": 2021, "owner": "finance", "created": "2021-03-01T09:00:00Z", "tags": ["money"]},
    )
    write(
        tmp_path,
        "guides/travel.md",
        "Book travel early; the kitchen closes at six.",
        {"year": 2019, "owner": None, "created": "2019-06-01T00:00:00+02:00", "tags": ["trip"]},
    )
    local = LocalDocumentIndex(tmp_path)
    yield local
    local.close()


def search(
    index: LocalDocumentIndex, query: str, filters: Any = (), **extra: Any
) -> list[dict[str, Any]]:
    request = {
        "query": query,
        "index_path": {"namespace": "acme", "collection": "handbook", "index": "any-name"},
        "max_results": 10,
        "min_score": None,
        "filters": list(filters),
        **extra,
    }
    return index.search(request)


def names(results: list[dict[str, Any]]) -> list[str]:
    return [result["document_path"]["name"] for result in results]


def test_the_matching_passage_ranks_first_with_its_place_in_the_text(
    index: LocalDocumentIndex, tmp_path: Path
) -> None:
    results = search(index, "How many days of paid leave?")
    best = results[0]
    assert best["document_path"] == {"namespace": "acme", "collection": "handbook", "name": "leave"}
    # The heading goes with its paragraph; the cursors are inclusive, in characters.
    assert best["content"] == "# Holidays\n\nEvery employee gets 30 days of paid leave per year."
    assert best["start"] == {"item": 0, "position": 0}
    assert best["end"] == {"item": 0, "position": len(best["content"]) - 1}
    assert best["score"] > 0
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    assert (tmp_path / INDEX_FILE).is_file()


def test_each_passage_is_a_result_of_its_own(index: LocalDocumentIndex) -> None:
    (travel, kitchen) = sorted(search(index, "kitchen"), key=lambda r: r["document_path"]["name"])
    assert kitchen["content"] == "The office kitchen has coffee and tea."
    start = LEAVE.index("The office")
    assert kitchen["start"]["position"] == start
    assert kitchen["end"]["position"] == start + len(kitchen["content"]) - 1
    assert travel["document_path"]["name"] == "guides/travel"


def test_max_results_and_min_score_limit_the_results(index: LocalDocumentIndex) -> None:
    everything = search(index, "kitchen days travel")
    assert len(everything) == 4
    assert search(index, "kitchen days travel", max_results=2) == everything[:2]
    assert search(index, "kitchen days travel", max_results=0) == []
    cut = everything[1]["score"]
    assert search(index, "kitchen days travel", min_score=cut) == everything[:2]
    assert search(index, "kitchen", min_score=1e9) == []


def metadata(field: str, **condition: Any) -> dict[str, Any]:
    return {"metadata": {"field": field, **condition}}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([{"with": [metadata("year", greater_than=2021)]}], ["leave"]),
        ([{"with": [metadata("year", greater_than_or_equal_to=2021)]}], ["expenses", "leave"]),
        ([{"with": [metadata("year", less_than=2021)]}], ["guides/travel"]),
        ([{"with": [metadata("year", less_than_or_equal_to=2021)]}], ["expenses", "guides/travel"]),
        ([{"with": [metadata("created", after="2020-01-01T00:00:00Z")]}], ["expenses"]),
        ([{"with": [metadata("created", at_or_after="2021-03-01T09:00:00Z")]}], ["expenses"]),
        ([{"with": [metadata("created", before="2021-03-01T09:00:00Z")]}], ["guides/travel"]),
        # +02:00 midnight is 22:00 UTC the day before.
        ([{"with": [metadata("created", at_or_before="2019-05-31T22:00:00Z")]}], ["guides/travel"]),
        ([{"with": [metadata("owner", equal_to="hr")]}], ["leave"]),
        ([{"with": [metadata("year", equal_to=2019)]}], ["guides/travel"]),
        ([{"with": [metadata("draft", equal_to=False)]}], ["leave"]),
        ([{"with": [metadata("owner", is_null=True)]}], ["guides/travel"]),
        ([{"with": [metadata("tags[]", equal_to="money")]}], ["expenses"]),
        ([{"with": [metadata("tags[0]", equal_to="trip")]}], ["guides/travel"]),
        ([{"without": [metadata("owner", equal_to="hr")]}], ["expenses", "guides/travel"]),
        (
            [{"with_one_of": [metadata("owner", equal_to="hr"), metadata("year", less_than=2020)]}],
            ["guides/travel", "leave"],
        ),
        (
            [
                {"with": [metadata("year", greater_than=2018)]},
                {"without": [metadata("owner", equal_to="finance")]},
            ],
            ["guides/travel", "leave"],
        ),
        # The kernel's own text-only filter holds for every local passage.
        ([{"with": [{"modality": "text"}]}], ["expenses", "guides/travel", "leave"]),
    ],
)
def test_every_filter_kind_narrows_the_results(
    index: LocalDocumentIndex, filters: list[Any], expected: list[str]
) -> None:
    query = "days kitchen travel expenses"
    assert sorted(set(names(search(index, query, filters)))) == expected


def test_nested_fields_are_reached_with_dots(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "alpha text", {"source": {"kind": "wiki", "pages": [{"n": 3}]}})
    write(tmp_path, "b.md", "alpha text", {"source": {"kind": "mail"}})
    index = LocalDocumentIndex(tmp_path)
    kind = [{"with": [metadata("source.kind", equal_to="wiki")]}]
    assert names(search(index, "alpha", kind)) == ["a"]
    pages = [{"with": [metadata("source.pages[].n", greater_than=2)]}]
    assert names(search(index, "alpha", pages)) == ["a"]


def test_a_malformed_filter_is_one_sentence(index: LocalDocumentIndex) -> None:
    for filters, phrase in (
        ([{"with": [metadata("year", around=3)]}], "exactly one of greater_than"),
        ([{"with": [metadata("created", after="last tuesday")]}], "RFC 3339 date-time"),
        ([{"with": [metadata("year", equal_to=1.5)]}], "a string, an integer or a boolean"),
        ([{"maybe": []}], "a filter must be one of"),
    ):
        with pytest.raises(DocumentIndexError, match=r"^The search's filters cannot be read: "):
            search(index, "days", filters)
        with pytest.raises(DocumentIndexError, match=phrase):
            search(index, "days", filters)


def test_an_edited_file_is_indexed_again_and_a_deleted_one_disappears(
    index: LocalDocumentIndex, tmp_path: Path
) -> None:
    assert names(search(index, "reimbursed")) == []
    path = write(tmp_path, "expenses.txt", "Expenses are reimbursed monthly.")
    assert names(search(index, "reimbursed")) == ["expenses"]
    assert search(index, "claim") == []
    # Metadata alone changing is seen too.
    filters = [{"with": [metadata("owner", equal_to="audit")]}]
    assert search(index, "reimbursed", filters) == []
    path.with_name("expenses.meta.json").write_text('{"owner": "audit"}', encoding="utf-8")
    assert names(search(index, "reimbursed", filters)) == ["expenses"]
    path.unlink()
    assert search(index, "reimbursed") == []
    write(tmp_path, "new.md", "A brand new reimbursed policy.")
    assert names(search(index, "reimbursed")) == ["new"]


def test_only_what_changed_is_read_again(
    index: LocalDocumentIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    search(index, "days")
    reads: list[str] = []
    original = LocalDocumentIndex._text
    monkeypatch.setattr(
        LocalDocumentIndex, "_text", lambda self, doc: reads.append(doc.name) or original(self, doc)
    )
    search(index, "days")
    assert reads == []
    path = tmp_path / "documents/acme/handbook/leave.md"
    path.write_text(LEAVE + "\nMore.\n", encoding="utf-8")
    search(index, "days")
    assert reads == ["leave"]


def test_the_index_survives_a_new_process_and_a_broken_file(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "persistent words")
    LocalDocumentIndex(tmp_path).search(_request("persistent"))
    assert names(LocalDocumentIndex(tmp_path).search(_request("persistent"))) == ["a"]
    (tmp_path / INDEX_FILE).write_bytes(b"this is not a database at all" * 100)
    assert names(LocalDocumentIndex(tmp_path).search(_request("persistent"))) == ["a"]


def _request(query: str) -> dict[str, Any]:
    return {
        "query": query,
        "index_path": {"namespace": "acme", "collection": "handbook", "index": "i"},
        "max_results": 5,
        "min_score": None,
        "filters": [],
    }


@pytest.mark.parametrize("query", ["", "?!", '"', "*", "((", "NEAR(", "-- ; DROP TABLE x", "'"])
def test_a_query_of_punctuation_or_syntax_is_just_text(
    index: LocalDocumentIndex, query: str
) -> None:
    assert search(index, query) == []


def test_query_words_that_look_like_fts5_syntax_are_plain_words(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "Use OR and NOT and NEAR as words.")
    index = LocalDocumentIndex(tmp_path)
    assert names(search(index, "NOT")) == ["a"]
    assert names(search(index, "title:near*")) == ["a"]


def test_collections_are_separate_and_a_missing_one_is_said(
    index: LocalDocumentIndex, tmp_path: Path
) -> None:
    write(tmp_path, "other.md", "days days days", collection="wiki")
    assert "other" not in names(search(index, "days"))
    request = {
        **_request("days"),
        "index_path": {"namespace": "acme", "collection": "nope", "index": "i"},
    }
    with pytest.raises(DocumentIndexError) as raised:
        index.search(request)
    assert str(raised.value) == (
        "There is no collection acme/nope in this project: put its documents in "
        "documents/acme/nope/ as .md or .txt files, or add them with "
        "`workbench docs add FILE --namespace acme --collection nope`."
    )


def test_documents_and_metadata_round_trip(index: LocalDocumentIndex) -> None:
    path = {"namespace": "acme", "collection": "handbook", "name": "leave"}
    assert index.document(path) == {
        "path": path,
        "contents": [{"modality": "text", "text": LEAVE}],
        "metadata": {"year": 2024, "owner": "hr", "draft": False},
    }
    assert index.metadata(path) == {"year": 2024, "owner": "hr", "draft": False}
    nested = {"namespace": "acme", "collection": "handbook", "name": "guides/travel"}
    assert index.document(nested)["contents"][0]["text"].startswith("Book travel")


def test_a_document_without_metadata_has_none(tmp_path: Path) -> None:
    write(tmp_path, "bare.txt", "no metadata here")
    index = LocalDocumentIndex(tmp_path)
    assert index.metadata({"namespace": "acme", "collection": "handbook", "name": "bare"}) is None


def test_a_missing_document_says_where_to_put_it(index: LocalDocumentIndex) -> None:
    with pytest.raises(DocumentIndexError) as raised:
        index.document({"namespace": "acme", "collection": "handbook", "name": "gone"})
    assert str(raised.value) == (
        "There is no document 'gone' in the collection acme/handbook: put it in "
        "documents/acme/handbook/gone.md (or .txt), or add it with `workbench docs add FILE "
        "--namespace acme --collection handbook --name gone`."
    )


def test_positions_count_characters_not_bytes(tmp_path: Path) -> None:
    text = "Ärger über Öl — 日本語のテキスト.\n\nZweiter Absatz: Straße und Grüße.\n"
    write(tmp_path, "umlaut.md", text)
    index = LocalDocumentIndex(tmp_path)
    (result,) = search(index, "Grüße")
    start, end = result["start"]["position"], result["end"]["position"]
    assert start == text.index("Zweiter") != len(text[: text.index("Zweiter")].encode())
    assert text[start : end + 1] == result["content"] == "Zweiter Absatz: Straße und Grüße."
    # Diacritics are folded, as a search box would: "uber" finds "über".
    assert search(index, "uber")[0]["start"]["position"] == 0


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "latin.txt", "x")
    path.write_bytes("Grüße".encode("latin-1"))
    with pytest.raises(
        DocumentIndexError, match=r"^documents/acme/handbook/latin.txt is not UTF-8"
    ):
        LocalDocumentIndex(tmp_path).search(_request("x"))


def test_add_copies_files_and_refuses_what_is_not_text(tmp_path: Path) -> None:
    source = tmp_path / "notes.md"
    source.write_text("Some notes about onboarding.", encoding="utf-8")
    index = LocalDocumentIndex(tmp_path)
    target = index.add("acme", "handbook", source, None, {"year": 2025})
    assert target == tmp_path / "documents/acme/handbook/notes.md"
    assert target.read_text(encoding="utf-8") == "Some notes about onboarding."
    assert json.loads(target.with_name("notes.meta.json").read_text()) == {"year": 2025}
    assert names(search(index, "onboarding")) == ["notes"]
    index.add("acme", "handbook", source, "guides/first-day")
    assert (tmp_path / "documents/acme/handbook/guides/first-day.md").is_file()
    assert [d.name for d in index.list_documents()] == ["guides/first-day", "notes"]

    binary = tmp_path / "picture.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(DocumentIndexError, match="is not UTF-8 text"):
        index.add("acme", "handbook", binary)
    for namespace, name in (("../up", None), ("acme", "../escape"), ("acme", ".hidden")):
        with pytest.raises(DocumentIndexError, match="is not a"):
            index.add(namespace, "handbook", source, name)
    assert not (tmp_path / "documents/escape.md").exists()


def test_list_documents_by_namespace_and_collection(
    index: LocalDocumentIndex, tmp_path: Path
) -> None:
    write(tmp_path, "other.md", "x", collection="wiki")
    everything = index.list_documents()
    assert [(d.collection, d.name) for d in everything] == [
        ("handbook", "expenses"),
        ("handbook", "guides/travel"),
        ("handbook", "leave"),
        ("wiki", "other"),
    ]
    assert [d.name for d in index.list_documents("acme", "wiki")] == ["other"]
    assert [d.name for d in index.list_documents(collection="wiki")] == ["other"]
    assert index.list_documents()[0].metadata_path is not None
    with pytest.raises(DocumentIndexError, match="There is no namespace nobody"):
        index.list_documents("nobody")
    assert LocalDocumentIndex(tmp_path / "empty").list_documents() == []


def test_a_read_only_project_is_searched_from_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "a.md", "readonly words")

    def read_only(folder: Path) -> None:
        raise PermissionError(13, "Permission denied", str(folder))

    # chmod cannot stop root, who runs these tests in containers: the probe says it instead.
    monkeypatch.setattr("workbench.documents.local.ensure_writable_folder", read_only)
    assert names(LocalDocumentIndex(tmp_path).search(_request("readonly"))) == ["a"]
    assert not (tmp_path / INDEX_FILE).exists()


def test_the_description_says_what_ranks(index: LocalDocumentIndex) -> None:
    assert "BM25" in index.description and "not embeddings" in index.description


def test_long_paragraphs_are_cut_and_headings_stay_with_their_text() -> None:
    from workbench.documents.passages import MAX_PASSAGE_CHARS, split_passages

    text = "# Guide\n\n## Setup\n\n" + " ".join(f"word{n}" for n in range(1500)) + "\n\n# End\n"
    passages = split_passages(text)
    assert passages[0].text.startswith("# Guide\n\n## Setup\n\nword0 word1")
    assert passages[-1].text == "# End"
    for passage in passages:
        assert 0 < len(passage.text) <= MAX_PASSAGE_CHARS
        assert text[passage.start : passage.end + 1] == passage.text
    assert len(passages) > 3
