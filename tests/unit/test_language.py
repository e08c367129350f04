"""The CSI's select_language as the kernel does it: lingua restricted to the given ISO 639-3
codes, null when no language is clear enough, an unknown code refused."""

from __future__ import annotations

import re
from typing import Any

import pytest
from lingua import Language

from workbench.cancel import CancelToken
from workbench.csi import language
from workbench.errors import InvalidCsiRequest

# The kernel's own test texts (src/language_selection.rs).
ENGLISH = "A little bit is better than nothing."
GERMAN = "Ich spreche Deutsch nur ein bisschen."
FRENCH = "Parlez-vous français?"


def select(*requests: Any) -> Any:
    return language.select_language(None, list(requests), CancelToken()).response  # type: ignore[arg-type]


def test_english_and_german_are_told_apart_in_request_order() -> None:
    languages = ["eng", "deu"]
    answer = select(
        {"text": ENGLISH, "languages": languages},
        {"text": GERMAN, "languages": languages},
        {"text": "Der Hund läuft schnell über die Straße.", "languages": ["deu", "eng"]},
    )
    assert answer == ["eng", "deu", "deu"]


def test_the_answer_is_one_of_the_given_languages() -> None:
    (answer,) = select({"text": GERMAN, "languages": ["eng", "fra", "ita"]})
    assert answer in ("eng", "fra", "ita", None)
    (answer,) = select({"text": ENGLISH, "languages": ["fra", "deu"]})
    assert answer != "eng"


def test_null_when_no_given_language_is_clear_enough() -> None:
    # The kernel's no_language_selected_for_french_text, and a text with no words at all.
    assert select(
        {"text": FRENCH, "languages": ["eng", "deu"]},
        {"text": "", "languages": ["eng", "deu"]},
        {"text": "12345 !!!", "languages": ["eng", "deu"]},
    ) == [None, None, None]


@pytest.mark.parametrize("code", ["foo", "ENG", "en", "de"])
def test_an_unsupported_code_is_refused_naming_it(code: str) -> None:
    with pytest.raises(InvalidCsiRequest) as raised:
        select({"text": ENGLISH, "languages": ["deu", code]})
    message = str(raised.value)
    assert f"the language {code!r} is unsupported" in message
    assert "select_language request 1" in message


@pytest.mark.parametrize(
    ("request_", "said"),
    [
        ({"text": ENGLISH}, "`languages` is missing"),
        ({"text": ENGLISH, "languages": []}, "`languages` is empty"),
        ({"languages": ["eng"]}, "`text` is missing"),
        ({"text": ENGLISH, "languages": "eng"}, "`languages` must be a list"),
        ({"text": ENGLISH, "languages": [1]}, "a list of ISO 639-3 codes"),
    ],
)
def test_a_malformed_request_is_refused(request_: Any, said: str) -> None:
    with pytest.raises(InvalidCsiRequest, match=re.escape(said)):
        select(request_)


def test_the_kernels_codes_are_exactly_linguas_languages() -> None:
    # The kernel maps 75 codes; lingua 1.7.2 (Python 2.1.1) knows the same 75 languages.
    assert {lang.iso_code_639_3.name.lower() for lang in Language.all()} == set(
        language.KERNEL_LANGUAGES
    )
    assert len(language.KERNEL_LANGUAGES) == 75


def test_a_detector_is_built_once_per_set_of_languages() -> None:
    first = language._detector(frozenset({"eng", "deu"}))
    assert language._detector(frozenset({"deu", "eng"})) is first
    assert language._detector(frozenset({"eng", "fra"})) is not first
