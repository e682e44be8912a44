"""IIN rules from DOMAIN.md, table-driven: the synthetic samples given there, and each refusal."""
from datetime import date

import pytest

from eventreg.registration.validators import ValidationFailure, iin_check_digit, mask_iin, parse_iin


@pytest.mark.parametrize("iin, birth_date, sex", [
    ("000101500001", date(2000, 1, 1), "M"),
    ("950501400007", date(1995, 5, 1), "F"),
    ("000101500206", date(2000, 1, 1), "M"),   # check digit from the second pass
    ("061211600012", date(2006, 12, 11), "F"),  # check digit from the second pass
])
def test_valid_sample_iins_give_birth_date_and_sex(iin, birth_date, sex):
    info = parse_iin(iin)
    assert (info.birth_date, info.sex) == (birth_date, sex)


@pytest.mark.parametrize("iin, code", [
    ("000101500002", "iin_checksum"),   # wrong check digit
    ("000101500221", "iin_checksum"),   # both passes give 10: no such IIN exists
    ("050229600003", "iin_date"),       # checksum right, 29 February 2005 does not exist
    ("000101700004", "iin_century"),    # checksum right, 7th digit 7
    ("00010150000", "iin_length"),
    ("0001015000011", "iin_length"),
    ("00010150000A", "iin_digits"),
    ("０００１０１５００００１", "iin_digits"),  # full-width digits are not ASCII digits
    ("", "iin_digits"),
])
def test_invalid_iins_are_refused_with_the_reason(iin, code):
    with pytest.raises(ValidationFailure) as failure:
        parse_iin(iin)
    assert failure.value.code == code


def test_no_prefix_defaults_to_zero_when_both_passes_give_ten():
    assert iin_check_digit("00010150022") is None
    with pytest.raises(ValidationFailure):
        parse_iin("000101500220")


def test_spaces_typed_inside_the_iin_are_ignored():
    assert parse_iin("000101 500001").iin == "000101500001"


def test_masked_iin_shows_only_the_last_six_digits():
    assert mask_iin("000101500001") == "******500001"
