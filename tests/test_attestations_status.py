"""The sanitary status rule (eventreg/attestations/status.py): every kind at the edges of its window.

Times are 2021, when Asia/Almaty was UTC+6: local midnight is 18:00 UTC of the day before.
"""
from datetime import date, datetime, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from eventreg.attestations import status as s

ALMATY = ZoneInfo("Asia/Almaty")
POLICY = s.PolicyRules(mode=s.BLOCK, declaration_required=False)


def utc(*parts):
    return datetime(*parts, tzinfo=timezone.utc)


def local(*parts):
    return datetime(*parts, tzinfo=ALMATY)


def evidence(kind, taken_on=None, taken_at=None, review=s.APPROVED, reason=""):
    return SimpleNamespace(kind=kind, taken_on=taken_on, taken_at=taken_at, review_status=review,
                           reject_reason=reason)


def declaration(day, at=None, no_symptoms=True, no_contact=True, temperature=36.6):
    at = at or datetime.combine(day, datetime.min.time(), ALMATY).replace(hour=8)
    return SimpleNamespace(day=day, at=at, no_symptoms=no_symptoms, no_contact=no_contact, temperature=temperature)


FIRST_DOSE = evidence(s.VACCINATION_FIRST_DOSE, date(2021, 3, 1))  # day 21 is 21 March: ends 22 March 00:00 local
FULL = evidence(s.VACCINATION_FULL, date(2021, 1, 10))  # 365 days: ends 10 January 2022 00:00 local
RECOVERY = evidence(s.RECOVERY, date(2021, 6, 1))  # 90 days: ends 30 August 00:00 local
PCR = evidence(s.PCR_NEGATIVE, date(2021, 9, 24), utc(2021, 9, 24, 14, 0))  # 72 h: ends 27 September 14:00 UTC
EXEMPTION = evidence(s.MEDICAL_EXEMPTION, date(2021, 1, 1))


@pytest.mark.parametrize("item, at, state, valid_until", [
    # First dose, 21 days counted in the event's timezone.
    (FIRST_DOSE, utc(2021, 3, 10, 12, 0), s.VALID, utc(2021, 3, 21, 18, 0)),
    (FIRST_DOSE, utc(2021, 3, 21, 17, 59), s.EXPIRING_SOON, utc(2021, 3, 21, 18, 0)),
    (FIRST_DOSE, utc(2021, 3, 21, 18, 0), s.EXPIRED, None),
    (FIRST_DOSE, utc(2021, 3, 21, 18, 1), s.EXPIRED, None),
    # 21 March 23:00 UTC is still the 21st in UTC, but 22 March 05:00 in Almaty: over.
    (FIRST_DOSE, utc(2021, 3, 21, 23, 0), s.EXPIRED, None),
    # The day of the dose begins at local midnight, 18:00 UTC the evening before.
    (FIRST_DOSE, utc(2021, 2, 28, 18, 1), s.VALID, utc(2021, 3, 21, 18, 0)),
    (FIRST_DOSE, utc(2021, 2, 28, 17, 59), s.MISSING, None),
    # Full course, 365 days.
    (FULL, utc(2022, 1, 9, 17, 59), s.EXPIRING_SOON, utc(2022, 1, 9, 18, 0)),
    (FULL, utc(2022, 1, 9, 18, 1), s.EXPIRED, None),
    # Recovery, 90 days.
    (RECOVERY, utc(2021, 8, 29, 17, 59), s.EXPIRING_SOON, utc(2021, 8, 29, 18, 0)),
    (RECOVERY, utc(2021, 8, 29, 18, 1), s.EXPIRED, None),
    (RECOVERY, utc(2021, 8, 1, 0, 0), s.VALID, utc(2021, 8, 29, 18, 0)),
    # PCR, 72 hours from the sample, to the minute.
    (PCR, utc(2021, 9, 24, 14, 0), s.VALID, utc(2021, 9, 27, 14, 0)),
    (PCR, utc(2021, 9, 27, 13, 59), s.EXPIRING_SOON, utc(2021, 9, 27, 14, 0)),
    (PCR, utc(2021, 9, 27, 14, 1), s.EXPIRED, None),
    (PCR, utc(2021, 9, 24, 13, 59), s.MISSING, None),  # before the sample was taken
    # Medical exemption: permanent.
    (EXEMPTION, utc(2030, 1, 1, 0, 0), s.VALID, None),
])
def test_each_kind_at_the_edges_of_its_window(item, at, state, valid_until):
    result = s.sanitary_status(POLICY, [item], [], at, ALMATY)
    assert (result.state, result.valid_until) == (state, valid_until)


@pytest.mark.parametrize("entry, pcr_hours, state", [
    # Sample at 20:00 the evening before (14:00 UTC); a 24-hour PCR ends at 20:00 on the day of entry.
    (local(2021, 9, 24, 10, 0), 72, s.VALID),
    (local(2021, 9, 24, 19, 59), 24, s.EXPIRING_SOON),
    (local(2021, 9, 24, 20, 1), 24, s.EXPIRED),
])
def test_a_pcr_taken_the_evening_before_counts_in_hours_not_dates(entry, pcr_hours, state):
    sample = evidence(s.PCR_NEGATIVE, date(2021, 9, 23), local(2021, 9, 23, 20, 0).astimezone(timezone.utc))
    policy = s.PolicyRules(mode=s.BLOCK, declaration_required=False, pcr_hours=pcr_hours)
    assert s.sanitary_status(policy, [sample], [], entry, ALMATY).state == state


def test_windows_are_settings_of_the_policy():
    at = utc(2021, 3, 25, 12, 0)  # day 25 after a first dose on 1 March
    assert s.sanitary_status(POLICY, [FIRST_DOSE], [], at, ALMATY).state == s.EXPIRED
    longer = s.PolicyRules(mode=s.BLOCK, declaration_required=False, first_dose_days=30)
    assert s.sanitary_status(longer, [FIRST_DOSE], [], at, ALMATY).state == s.VALID


AT = utc(2021, 3, 10, 12, 0)


@pytest.mark.parametrize("items, state, reason", [
    ([], s.MISSING, "evidence_missing"),
    ([evidence(s.VACCINATION_FIRST_DOSE, date(2021, 3, 1), review=s.PENDING)], s.PENDING_REVIEW,
     "evidence_pending"),
    ([evidence(s.VACCINATION_FIRST_DOSE, date(2021, 3, 1), review=s.REJECTED, reason="unreadable")], s.REJECTED,
     "evidence_rejected"),
    # A valid approved document wins over a rejected one.
    ([evidence(s.VACCINATION_FIRST_DOSE, date(2021, 3, 1), review=s.REJECTED), FIRST_DOSE], s.VALID,
     "valid_until"),
    # An expired document and a new one waiting for review: the organizer has to act.
    ([evidence(s.PCR_NEGATIVE, date(2021, 3, 1), utc(2021, 3, 1, 5, 0)),
      evidence(s.PCR_NEGATIVE, date(2021, 3, 10), utc(2021, 3, 10, 5, 0), review=s.PENDING)],
     s.PENDING_REVIEW, "evidence_pending"),
    # A pending document that has run out can no longer help: expired.
    ([evidence(s.PCR_NEGATIVE, date(2021, 3, 1), utc(2021, 3, 1, 5, 0), review=s.PENDING)], s.EXPIRED,
     "evidence_expired"),
    # The longest-valid document decides.
    ([evidence(s.PCR_NEGATIVE, date(2021, 3, 10), utc(2021, 3, 10, 5, 0)), EXEMPTION], s.VALID,
     "valid_permanent"),
])
def test_review_status_decides_what_counts(items, state, reason):
    result = s.sanitary_status(POLICY, items, [], AT, ALMATY)
    assert (result.state, result.reason) == (state, reason)
    assert (s.NEEDS_EVIDENCE in result.needs) == (state not in (s.VALID, s.EXPIRING_SOON))


def test_a_rejected_document_says_why():
    result = s.sanitary_status(POLICY, [evidence(s.RECOVERY, date(2021, 3, 1), review=s.REJECTED,
                                                 reason="The date is unreadable")], [], AT, ALMATY)
    assert result.params == {"reason": "The date is unreadable"}


def test_kinds_the_policy_does_not_accept_do_not_count():
    pcr_only = s.PolicyRules(mode=s.BLOCK, declaration_required=False, accepted_kinds=frozenset({s.PCR_NEGATIVE}))
    assert s.sanitary_status(pcr_only, [FIRST_DOSE], [], AT, ALMATY).state == s.MISSING


def test_a_policy_accepting_no_document_needs_only_the_declaration():
    declaration_only = s.PolicyRules(mode=s.BLOCK, accepted_kinds=frozenset())
    assert s.sanitary_status(declaration_only, [], [declaration(date(2021, 3, 10))], AT, ALMATY).state == s.VALID
    assert s.sanitary_status(declaration_only, [], [], AT, ALMATY).needs == (s.NEEDS_DECLARATION,)


WITH_DECLARATION = s.PolicyRules(mode=s.BLOCK, declaration_required=True)
TODAY = date(2021, 3, 10)


@pytest.mark.parametrize("declarations, at, state, reason", [
    ([declaration(TODAY)], AT, s.VALID, "valid_until"),
    ([], AT, s.MISSING, "declaration_missing"),
    ([declaration(date(2021, 3, 9))], AT, s.MISSING, "declaration_stale"),
    # 9 March 18:30 UTC is 10 March 00:30 in Almaty: the declaration of the 9th is stale already.
    ([declaration(date(2021, 3, 9))], utc(2021, 3, 9, 18, 30), s.MISSING, "declaration_stale"),
    ([declaration(TODAY)], utc(2021, 3, 9, 18, 30), s.VALID, "valid_until"),
    ([declaration(TODAY, no_symptoms=False)], AT, s.REJECTED, "declaration_symptoms"),
    ([declaration(TODAY, no_contact=False)], AT, s.REJECTED, "declaration_contact"),
    ([declaration(TODAY, temperature=37.0)], AT, s.REJECTED, "declaration_temperature"),
    ([declaration(TODAY, temperature=36.9)], AT, s.VALID, "valid_until"),
    ([declaration(TODAY, temperature=None)], AT, s.REJECTED, "declaration_temperature"),
    # Staff measured again at the entrance: the later declaration of the day replaces the earlier one.
    ([declaration(TODAY, local(2021, 3, 10, 7, 0), temperature=37.4),
      declaration(TODAY, local(2021, 3, 10, 9, 0), temperature=36.7)], AT, s.VALID, "valid_until"),
    ([declaration(TODAY, local(2021, 3, 10, 9, 0), temperature=37.4),
      declaration(TODAY, local(2021, 3, 10, 7, 0), temperature=36.7)], AT, s.REJECTED, "declaration_temperature"),
])
def test_a_same_day_declaration_is_needed_on_top_of_the_documents(declarations, at, state, reason):
    result = s.sanitary_status(WITH_DECLARATION, [FIRST_DOSE], declarations, at, ALMATY)
    assert (result.state, result.reason) == (state, reason)
    assert result.valid_until == utc(2021, 3, 21, 18, 0)  # the documents' validity, declaration or not
    assert (s.NEEDS_DECLARATION in result.needs) == (state != s.VALID)


def test_missing_documents_and_declaration_are_both_named():
    result = s.sanitary_status(WITH_DECLARATION, [], [], AT, ALMATY)
    assert (result.state, result.needs) == (s.MISSING, (s.NEEDS_EVIDENCE, s.NEEDS_DECLARATION))


@pytest.mark.parametrize("mode, items, state, decision", [
    (s.BLOCK, [FIRST_DOSE], s.VALID, s.ALLOW),
    (s.BLOCK, [], s.MISSING, s.BLOCK),
    (s.WARN, [FIRST_DOSE], s.VALID, s.ALLOW),
    (s.WARN, [], s.MISSING, s.WARN),
    (s.OFF, [], s.NOT_REQUIRED, s.ALLOW),
])
def test_each_enforcement_mode(mode, items, state, decision):
    policy = s.PolicyRules(mode=mode, declaration_required=False)
    result = s.sanitary_status(policy, items, [], AT, ALMATY)
    assert result.state == state
    assert s.door_decision(result, mode) == decision


@pytest.mark.parametrize("state, block, warn", [
    (s.VALID, s.ALLOW, s.ALLOW), (s.EXPIRING_SOON, s.ALLOW, s.ALLOW), (s.NOT_REQUIRED, s.ALLOW, s.ALLOW),
    (s.MISSING, s.BLOCK, s.WARN), (s.EXPIRED, s.BLOCK, s.WARN), (s.REJECTED, s.BLOCK, s.WARN),
    (s.PENDING_REVIEW, s.BLOCK, s.WARN),
])
def test_door_decision_for_every_state(state, block, warn):
    status = s.SanitaryStatus(state)
    assert (s.door_decision(status, s.BLOCK), s.door_decision(status, s.WARN), s.door_decision(status, s.OFF)) == (
        block, warn, s.ALLOW)


def test_no_policy_requires_nothing():
    assert s.sanitary_status(None, [], [], AT, ALMATY).state == s.NOT_REQUIRED


def test_naive_utc_datetimes_from_sqlite_are_read_as_utc():
    naive = evidence(s.PCR_NEGATIVE, date(2021, 9, 24), datetime(2021, 9, 24, 14, 0))
    assert s.sanitary_status(POLICY, [naive], [], utc(2021, 9, 27, 14, 1), ALMATY).state == s.EXPIRED
