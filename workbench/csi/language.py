"""The CSI's `select_language`, served here as the kernel serves it (its
src/language_selection.rs): a lingua detector restricted to the languages the skill names by
their ISO 639-3 codes, with a minimum relative distance of 0.5, answering the code of the
language it detects, or null when none is clear enough.

The kernel uses the lingua crate 1.7.2; lingua-language-detector 2.1.1 is that same release's
Python binding, so the answers are the kernel's. A detector is built once per set of languages
and kept: building one and loading its language models is the slow part.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.cancel import CancelToken
from workbench.csi import wire
from workbench.csi.inference import Served
from workbench.errors import InvalidCsiRequest, RunCancelled
from workbench.models.base import ModelProvider

if TYPE_CHECKING:  # imported with the first detector
    from lingua import LanguageDetector

#: The codes the kernel maps onto lingua's languages (its `TryFrom<Language>`), exactly; any
#: other code, even in another case, is refused there, and so here.
_KERNEL_CODES = """
    afr ara aze bel ben bos bul cat ces cym dan deu ell eng epo est eus fas fin fra gle guj
    heb hin hrv hun hye ind isl ita jpn kat kaz kor lat lav lit lug mar mkd mon mri msa nld
    nno nob pan pol por ron rus slk slv sna som sot spa sqi srp swa swe tam tel tgl tha tsn
    tso tur ukr urd vie xho yor zho zul
"""
KERNEL_LANGUAGES = frozenset(_KERNEL_CODES.split())
#: The kernel's `with_minimum_relative_distance(0.5)` ("empirical value that makes the tests
#: pass", it says): below it, the text's language is not told and the answer is null.
MINIMUM_RELATIVE_DISTANCE = 0.5
#: Detectors kept, the least recently used dropped first (the language models they load are
#: lingua's own, shared by them all).
_MAX_DETECTORS = 32

_lock = threading.Lock()
_detectors: OrderedDict[frozenset[str], LanguageDetector] = OrderedDict()


@dataclass(frozen=True)
class SelectLanguageRequest:
    text: str
    languages: frozenset[str]


def select_language(
    provider: ModelProvider, requests: list[dict[str, Any]], cancel: CancelToken
) -> Served:
    """`[{"text", "languages": ["eng", "deu", ...]}]` in, `["eng" | null, ...]` out. The
    provider is not asked: the kernel selects languages itself too."""
    parsed = [
        _request(request, f"select_language request {n}")
        for n, request in enumerate(wire.batch(requests, "select_language"), 1)
    ]
    selected = []
    for request in parsed:
        if cancel.is_cancelled:
            raise RunCancelled("The language selection was cancelled.")
        language = _detector(request.languages).detect_language_of(request.text)
        selected.append(None if language is None else language.iso_code_639_3.name.lower())
    return Served(selected, None, None, None, ())


def _request(value: Any, where: str) -> SelectLanguageRequest:
    fields = wire._Fields(value, where)
    text = str(fields.text("text", required=True))
    languages = fields.items("languages")
    if languages is None:
        fields.get("languages", required=True)
    codes = languages or []
    for code in codes:
        if not isinstance(code, str):
            raise fields.fail("languages", "a list of ISO 639-3 codes (strings)")
        if code not in KERNEL_LANGUAGES:
            # The kernel's LanguageError::Unsupported: "the language '{code}' is unsupported".
            raise InvalidCsiRequest(
                f"In {where}, the language {code!r} is unsupported: the kernel takes the "
                'lower-case ISO 639-3 codes of the 75 languages lingua detects, e.g. "eng" '
                'or "deu".'
            )
    if not codes:
        # lingua's builder panics on no language at all, which fails the kernel's call.
        raise InvalidCsiRequest(
            f"In {where}, `languages` is empty; the kernel needs at least one language to "
            "choose from."
        )
    return SelectLanguageRequest(text, frozenset(codes))


def _detector(codes: frozenset[str]) -> LanguageDetector:
    with _lock:
        detector = _detectors.get(codes)
        if detector is not None:
            _detectors.move_to_end(codes)
            return detector
    from lingua import IsoCode639_3, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_3(IsoCode639_3.from_str(code)) for code in codes]
    # Built outside the lock: two threads may build the same one, and one of them is kept.
    detector = (
        LanguageDetectorBuilder.from_languages(*languages)
        .with_minimum_relative_distance(MINIMUM_RELATIVE_DISTANCE)
        .build()
    )
    with _lock:
        _detectors[codes] = detector
        while len(_detectors) > _MAX_DETECTORS:
            _detectors.popitem(last=False)
    return detector
