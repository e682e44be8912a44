"""Finding a person by what staff can type: start of any name, reference, phone, IIN."""
import pytest

from eventreg.registration.service import search

from .helpers import make_iin


@pytest.fixture
def people(participant):
    aigerim, _ = participant(last_name="Сәрсенбаева", first_name="Әйгерім", phone="+7 701 111 22 33",
                             iin=make_iin(serial=4242))
    ulzhan, _ = participant(last_name="Құрманғалиева", first_name="Ұлжан", latin_name="Ulzhan Kurmangaliyeva")
    petr, _ = participant(last_name="Иванов", first_name="Пётр", patronymic="")
    return aigerim, ulzhan, petr


def names(found):
    return [r.last_name for r in found]


@pytest.mark.parametrize("query, expected", [
    ("сәрс", ["Сәрсенбаева"]),
    ("СӘРСЕНБАЕВА", ["Сәрсенбаева"]),
    ("әйгерім сәрс", ["Сәрсенбаева"]),       # words in any order, each the start of a name
    ("ұлжан", ["Құрманғалиева"]),
    ("kurman", ["Құрманғалиева"]),           # the passport spelling
    ("петр", ["Иванов"]),                     # ё typed as е
    ("қайратқызы", ["Сәрсенбаева", "Құрманғалиева"]),
    ("сәрс ұлжан", []),                       # all words must match one person
    ("нбаева", []),                           # the middle of a word is not a start
    ("x", []),
])
def test_name_search(event, people, query, expected):
    assert sorted(names(search(event, query))) == sorted(expected)


def test_search_by_reference_phone_and_full_iin(event, people):
    aigerim, _, _ = people
    assert names(search(event, aigerim.display_reference)) == ["Сәрсенбаева"]
    assert names(search(event, "8 701 111 22 33")) == ["Сәрсенбаева"]
    assert names(search(event, aigerim.iin)) == ["Сәрсенбаева"]
    assert search(event, aigerim.iin[:6]) == []  # part of an IIN finds nobody


def test_results_sort_in_kazakh_alphabetical_order(event, participant):
    for surname in ("Өтегенов", "Оспанов", "Әбенов", "Абаев"):
        participant(last_name=surname, first_name="Тест")
    assert names(search(event, "тест")) == ["Абаев", "Әбенов", "Оспанов", "Өтегенов"]
