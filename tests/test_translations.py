"""Kazakh and Russian catalogs are complete and in step with the code."""
import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "eventreg" / "translations"


def catalog(language):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po)


def extracted_msgids(tmp_path, monkeypatch):
    pot = tmp_path / "messages.pot"
    monkeypatch.chdir(ROOT)
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", "babel.cfg", "-k", "lazy_gettext", "-k", "_l",
                                "-o", str(pot), "."])
    with open(pot, "rb") as source:
        return {message.id for message in read_po(source) if message.id}


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_every_message_in_the_code_is_translated(language, tmp_path, monkeypatch):
    translated = {m.id for m in catalog(language) if m.id and m.string and "fuzzy" not in m.flags}
    extracted = extracted_msgids(tmp_path, monkeypatch)
    assert len(extracted) > 50, "extraction found the messages of the code"
    missing = extracted - translated
    assert not missing, f"untranslated in {language} (run pybabel update, then translate): {sorted(missing)}"


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_translations_keep_the_placeholders(language):
    placeholder = re.compile(r"%\(\w+\)s")
    for message in catalog(language):
        if message.id and message.string:
            assert sorted(placeholder.findall(message.id)) == sorted(placeholder.findall(message.string)), message.id


def test_kazakh_words_do_not_mix_latin_letters_into_cyrillic():
    """A Latin i typed for the Kazakh І is the classic slip: it breaks search and sorting."""
    for message in catalog("kk"):
        for word in re.findall(r"\w+", message.string or ""):
            has_cyrillic = any("\u0400" <= ch <= "\u04ff" for ch in word)
            has_latin = any(ch.isascii() and ch.isalpha() for ch in word)
            assert not (has_cyrillic and has_latin), f"{word!r} in {message.string!r}"
