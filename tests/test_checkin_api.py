"""The check-in API: every answer a scanner can get, and exactly-once counting."""
from datetime import timedelta

import pytest

from eventreg.auth.models import EventRole
from eventreg.badges.service import reissue
from eventreg.checkin.models import Presence, Scan
from eventreg.checkin.tokens import KnownDevice, create_token, revoke
from eventreg.db import utcnow
from eventreg.events.models import Category, Event
from eventreg.extensions import db

from .checkin_helpers import new_scan_id


def test_first_scan_checks_in_and_shows_who_it_is(scan, participant):
    registration, code = participant()
    response = scan(code)
    assert response.status_code == 201
    body = response.json
    assert body["result"] == "ok"
    assert body["participant"]["name"] == "Сәрсенбаева Әйгерім Қайратқызы"
    assert body["participant"]["category"] == "Volunteer"
    assert body["zone"]["headcount"] == 1
    assert "iin" not in body["participant"] and "phone" not in body["participant"]
    assert body["participant"]["iin_masked"].startswith("******")


def test_second_scan_of_same_badge_reports_first_checkin(scan, participant, staff):
    _, code = participant()
    first = scan(code).json
    response = scan(code)
    assert response.status_code == 409
    assert response.json["result"] == "already_checked_in"
    assert response.json["first"]["at"] == first["checked_in_at"]
    assert response.json["first"]["checkpoint"] == "Main entrance"
    assert response.json["first"]["by"] == staff.email


def test_resent_scan_id_is_one_checkin_with_the_same_answer(scan, participant):
    _, code = participant()
    scan_id = new_scan_id()
    first = scan(code, scan_id=scan_id)
    again = scan(code, scan_id=scan_id)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    assert db.session.execute(db.select(db.func.count()).select_from(Scan)).scalar() == 1


def test_unknown_and_forged_codes_are_404(scan, participant):
    _, code = participant()
    tampered = code[:-3] + ("AAA" if not code.endswith("AAA") else "BBB")
    for bad, reason in [(tampered, "bad_signature"), ("ER1:" + "A" * 120, "unknown_version"),
                        ("ER1:TOO-SHORT", "malformed"), ("hello", "malformed"), ("ZZZZ-ZZZZ", "unknown")]:
        response = scan(bad)
        assert response.status_code == 404, bad
        assert (response.json["result"], response.json["reason"]) == ("unknown_code", reason), bad
    assert scan(code).status_code == 201  # bad codes before it did not get in its way


def test_a_reissued_badges_old_code_is_refused_and_the_new_one_works(scan, participant):
    registration, old_code = participant()
    new_code = reissue(registration)
    response = scan(old_code)
    assert response.status_code == 404
    assert response.json == {**response.json, "result": "unknown_code", "reason": "reissued"}
    assert scan(new_code).status_code == 201


def test_the_printed_reference_works_for_manual_entry(scan, participant):
    registration, _ = participant()
    response = scan(registration.display_reference.lower())
    assert response.status_code == 201


def test_a_code_of_another_event_is_unknown_here(scan, participant, event, staff):
    registration, code = participant()
    other = Event(slug="other", name_kk="Басқа", name_ru="Другое", name_en="Other",
                  starts_on=event.starts_on, ends_on=event.ends_on)
    db.session.add(other)
    db.session.commit()
    from eventreg.badges import credential
    foreign = credential.encode("test-secret-key", credential.BadgeCode(other.id, registration.id, 1))
    response = scan(foreign)
    assert response.status_code == 404 and response.json["reason"] == "other_event"


def test_cancelled_registration_is_refused(scan, participant, client, event):
    registration, code = participant()
    client.post(f"/events/{event.slug}/p/{registration.secret}/cancel", data={"confirm": "y"})
    response = scan(code)
    assert response.status_code == 403 and response.json["result"] == "cancelled"


def test_waitlisted_person_has_no_place_to_enter(scan, participant, event):
    event.capacity = 0
    db.session.commit()
    _, code = participant()
    response = scan(code)
    assert response.status_code == 403 and response.json["result"] == "not_confirmed"


def test_category_not_allowed_at_a_checkpoint_is_refused(scan, participant, event):
    from eventreg.checkin.service import get_checkpoint

    concert = get_checkpoint(event, "concert")
    concert.allowed_categories = [db.session.execute(db.select(Category).filter_by(code="guest")).scalar_one()]
    db.session.commit()
    _, code = participant()
    response = scan(code, checkpoint="concert")
    assert response.status_code == 403 and response.json["result"] == "not_allowed_here"


def test_entering_another_zone_leaves_the_first_and_headcounts_follow(scan, participant, client, event, token):
    _, code = participant()
    assert scan(code, checkpoint="entrance").json["zone"]["headcount"] == 1
    assert scan(code, checkpoint="trainings").json["zone"]["headcount"] == 1
    counts = {c["code"]: c["headcount"] for c in client.get(
        f"/api/v1/events/{event.slug}/checkpoints", headers={"Authorization": f"Bearer {token}"}).json["checkpoints"]}
    assert counts == {"entrance": 0, "trainings": 1, "games": 0, "concert": 0}


def test_reentry_allowed_after_leaving_but_not_at_a_once_only_checkpoint(scan, participant):
    _, code = participant()
    assert scan(code, checkpoint="trainings").status_code == 201
    assert scan(code, checkpoint="trainings", direction="out").status_code == 201
    assert scan(code, checkpoint="trainings").status_code == 201  # re-entry allowed
    assert scan(code, checkpoint="concert").status_code == 201
    assert scan(code, checkpoint="concert", direction="out").status_code == 201
    response = scan(code, checkpoint="concert")  # the concert counts one entry per person
    assert response.status_code == 409 and response.json["result"] == "already_checked_in"


def test_leaving_a_zone_one_is_not_in_is_refused(scan, participant):
    _, code = participant()
    response = scan(code, checkpoint="games", direction="out")
    assert response.status_code == 409 and response.json["result"] == "not_inside"


def test_undo_puts_the_person_back_where_they_were(scan, participant, client, event, token):
    _, code = participant()
    scan(code, checkpoint="entrance")
    wrong = scan(code, checkpoint="trainings").json
    response = client.post(f"/api/v1/events/{event.slug}/checkins/{wrong['scan_id']}/undo",
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json["result"] == "undone"
    presence = db.session.execute(db.select(Presence)).scalar_one()
    from eventreg.checkin.service import get_checkpoint
    assert presence.checkpoint_id == get_checkpoint(event, "entrance").id
    assert scan(code, checkpoint="trainings").status_code == 201  # the undone entry does not count
    from eventreg.audit import AuditEntry
    assert db.session.execute(db.select(AuditEntry.action)).scalars().all() == ["checkin_undone"]


def test_undo_leaves_a_person_who_has_moved_on_since_where_they_are(scan, participant, client, event, token):
    _, code = participant()
    scan(code, checkpoint="entrance")
    wrong = scan(code, checkpoint="trainings").json
    scan(code, checkpoint="games")  # they walked on before the undo came
    response = client.post(f"/api/v1/events/{event.slug}/checkins/{wrong['scan_id']}/undo",
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json["result"] == "undone"
    from eventreg.checkin.service import get_checkpoint
    assert db.session.execute(db.select(Presence)).scalar_one().checkpoint_id == get_checkpoint(event, "games").id


def test_undo_by_another_device_user_is_refused(scan, participant, client, event):
    from eventreg.auth.service import create_or_update_user

    _, code = participant()
    done = scan(code).json
    other, _ = create_or_update_user("other@example.kz", "other password 1", "staff", event)
    _, other_token = create_token(other, event)
    response = client.post(f"/api/v1/events/{event.slug}/checkins/{done['scan_id']}/undo",
                           headers={"Authorization": f"Bearer {other_token}"})
    assert response.status_code == 403


def test_without_a_token_the_api_answers_401(client, event, participant):
    _, code = participant()
    response = client.post(f"/api/v1/events/{event.slug}/checkins",
                           json={"code": code, "checkpoint": "entrance", "scan_id": new_scan_id()})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_is_401(scan, participant, staff, event):
    _, code = participant()
    row, text = create_token(staff, event)
    revoke(row)
    assert scan(code, bearer=text).status_code == 401


def test_expired_token_and_token_outside_its_shift_are_401(scan, participant, staff, event):
    _, code = participant()
    _, expired = create_token(staff, event, valid_from=utcnow() - timedelta(hours=20), hours=16)
    _, later_shift = create_token(staff, event, valid_from=utcnow() + timedelta(hours=2), hours=8)
    assert scan(code, bearer=expired).status_code == 401
    assert scan(code, bearer=later_shift).status_code == 401


def test_token_of_staff_from_another_event_is_401(scan, participant, event):
    from eventreg.auth.service import create_or_update_user

    _, code = participant()
    other = Event(slug="other", name_kk="Басқа", name_ru="Другое", name_en="Other",
                  starts_on=event.starts_on, ends_on=event.ends_on)
    db.session.add(other)
    db.session.commit()
    outsider, _ = create_or_update_user("outsider@example.kz", "outsider password", "staff", other)
    _, foreign_token = create_token(outsider, other)
    assert scan(code, bearer=foreign_token).status_code == 401


def test_token_limited_to_a_checkpoint_cannot_scan_elsewhere(scan, participant, staff, event):
    from eventreg.checkin.service import get_checkpoint

    _, code = participant()
    _, door_token = create_token(staff, event, checkpoints=[get_checkpoint(event, "entrance")])
    response = scan(code, checkpoint="concert", bearer=door_token)
    assert response.status_code == 403 and response.json["result"] == "token_not_for_checkpoint"
    assert scan(code, checkpoint="entrance", bearer=door_token).status_code == 201


@pytest.fixture
def remembered(monkeypatch):
    """Whether each request since the last clear() was answered for a device the worker remembered
    (tokens.KnownDevice.recall found it), so a test knows it tried that path and not the full lookup."""
    answers = []
    recall = KnownDevice.recall.__func__

    def recording(cls, slug, token, at=None):
        found = recall(cls, slug, token, at)
        answers.append(found is not None)
        return found

    monkeypatch.setattr(KnownDevice, "recall", classmethod(recording))
    return answers


def _deactivate(row, staff, event):
    staff.is_active = False


def _take_the_role_away(row, staff, event):
    db.session.execute(db.delete(EventRole).filter_by(user_id=staff.id, event_id=event.id))


def _scan_count():
    return db.session.execute(db.select(db.func.count()).select_from(Scan)).scalar()


# Every kind of answer a scan can get, each sent by a device the worker remembers: a refusal answered
# before the door read (checks the token first), an unknown code (no row to recheck it with), the door's
# answers (rechecked in its read), a resent scan_id.
_REQUESTS = {
    "ok": lambda scan, post, first, second, first_scan: scan(second),
    "already inside": lambda scan, post, first, second, first_scan: scan(first),
    "way out": lambda scan, post, first, second, first_scan: scan(first, direction="out"),
    "resent scan_id": lambda scan, post, first, second, first_scan: scan(first, scan_id=first_scan),
    "forged code": lambda scan, post, first, second, first_scan: scan("EVR1.forged"),
    "unknown reference": lambda scan, post, first, second, first_scan: scan("ZZZZ-ZZZZ"),
    "unknown checkpoint": lambda scan, post, first, second, first_scan: scan(second, checkpoint="nowhere"),
    "checkpoint not the token's": lambda scan, post, first, second, first_scan: scan(second, checkpoint="games"),
    "short scan_id": lambda scan, post, first, second, first_scan: scan(second, scan_id="short"),
    "not JSON": lambda scan, post, first, second, first_scan: post("not json"),
}


@pytest.mark.parametrize("request_kind", list(_REQUESTS))
def test_a_remembered_device_whose_token_was_revoked_gets_401_for_every_request_and_writes_nothing(
        scan, participant, staff, event, client, remembered, request_kind):
    # A worker remembers a device it found usable (no token lookup of its own on its next scans) and
    # rechecks it with each scan's door read, or before any other answer.
    from eventreg.checkin.service import get_checkpoint

    _, first = participant()
    _, second = participant()
    row, text = create_token(staff, event, checkpoints=[get_checkpoint(event, "entrance")])
    first_scan = new_scan_id()
    assert scan(first, scan_id=first_scan, bearer=text).status_code == 201
    revoke(row)
    before = _scan_count()
    remembered.clear()

    def post(data):
        return client.post(f"/api/v1/events/{event.slug}/checkins", data=data,
                           headers={"Authorization": f"Bearer {text}"})

    response = _REQUESTS[request_kind](lambda *a, **k: scan(*a, bearer=text, **k), post, first, second, first_scan)
    assert remembered[0], "answered through the full lookup: the remembered path was not tried"
    assert response.status_code == 401 and response.json == {"result": "unauthorized"}
    assert _scan_count() == before


@pytest.mark.parametrize("stop", [_deactivate, _take_the_role_away], ids=["user deactivated", "role taken away"])
def test_a_remembered_device_is_refused_as_soon_as_its_user_may_no_longer_scan(scan, participant, staff, event,
                                                                                remembered, stop):
    _, first = participant()
    _, second = participant()
    row, text = create_token(staff, event)
    assert scan(first, bearer=text).status_code == 201
    stop(row, staff, event)
    db.session.commit()
    remembered.clear()
    assert scan(second, bearer=text).status_code == 401 and remembered == [True]
    assert _scan_count() == 1


def test_a_remembered_device_expires_with_its_token(scan, participant, staff, event, remembered, monkeypatch):
    from eventreg.checkin import tokens

    _, first = participant()
    _, second = participant()
    _, text = create_token(staff, event, hours=1)
    assert scan(first, bearer=text).status_code == 201
    later = utcnow() + timedelta(hours=2)
    monkeypatch.setattr(tokens, "utcnow", lambda: later)
    assert scan(second, bearer=text).status_code == 401
    assert _scan_count() == 1


def test_a_remembered_device_follows_a_change_of_the_checkpoints_rules(scan, participant, event, remembered):
    from eventreg.checkin.service import get_checkpoint

    _, first = participant()
    _, second = participant()
    assert scan(first, checkpoint="concert").status_code == 201
    concert = get_checkpoint(event, "concert")
    concert.allowed_categories = [db.session.execute(db.select(Category).filter_by(code="guest")).scalar_one()]
    db.session.commit()
    remembered.clear()
    response = scan(second, checkpoint="concert")
    assert remembered == [True]
    assert response.status_code == 403 and response.json["result"] == "not_allowed_here"


def test_a_remembered_device_follows_the_removal_of_one_of_its_checkpoints(scan, participant, staff, event,
                                                                           remembered):
    from eventreg.auth.service import create_or_update_user
    from eventreg.checkin.service import get_checkpoint
    from eventreg.organizer import settings

    _, first = participant()
    _, second = participant()
    games = get_checkpoint(event, "games")
    _, text = create_token(staff, event, checkpoints=[get_checkpoint(event, "entrance"), games])
    assert scan(first, bearer=text).status_code == 201
    organizer, _ = create_or_update_user("organizer@example.kz", "organizer password 1", "organizer", event)
    settings.remove_item(event, settings.CHECKPOINT, games, organizer)
    remembered.clear()
    response = scan(second, checkpoint="games", bearer=text)
    assert remembered[0] and response.status_code == 404 and response.json["result"] == "unknown_checkpoint"
    assert scan(second, bearer=text).status_code == 201


def test_bad_requests_get_clear_answers_and_change_nothing(client, event, token, scan, participant):
    _, code = participant()
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/events/{event.slug}/checkins"
    assert client.post(url, data="not json", headers=headers).status_code == 400
    assert client.post(url, json=[1, 2], headers=headers).status_code == 400
    assert scan(code, checkpoint="nowhere").status_code == 404
    assert scan(code, scan_id="short").status_code == 422
    assert scan(code, scanned_at="yesterday").status_code == 422
    assert scan(code, direction="sideways").status_code == 422
    assert db.session.execute(db.select(db.func.count()).select_from(Scan)).scalar() == 0


def test_search_finds_by_kazakh_name_in_any_case_and_shows_no_contact_data(client, event, token, participant):
    participant(last_name="Құрманғалиева", first_name="Ұлжан")
    participant(last_name="Иванов", first_name="Пётр")
    headers = {"Authorization": f"Bearer {token}"}
    found = client.get(f"/api/v1/events/{event.slug}/search?q=ҚҰРМАНҒАЛ", headers=headers).json["results"]
    assert [p["name"] for p in found] == ["Құрманғалиева Ұлжан Қайратқызы"]
    assert "phone" not in found[0] and "email" not in found[0]
    assert len(client.get(f"/api/v1/events/{event.slug}/search?q=петр", headers=headers).json["results"]) == 1


def test_openapi_document_describes_the_checkin_endpoint(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    answers = document["paths"]["/api/v1/events/{slug}/checkins"]["post"]["responses"]
    assert {"201", "401", "403", "404", "409"} <= set(answers)


def test_create_token_cli_prints_a_working_token(runner, staff, event, scan, participant):
    _, code = participant()
    result = runner.invoke(args=["create-token", staff.email, "--event", event.slug, "--checkpoint", "entrance"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[0]
    assert token.startswith("ert_")
    assert scan(code, bearer=token).status_code == 201
    assert runner.invoke(args=["create-token", "nobody@example.kz", "--event", event.slug]).exit_code != 0


def test_devices_page_is_for_organizers_only(client, event, staff):
    from eventreg.auth.service import create_or_update_user

    url = f"/organizer/events/{event.slug}/devices"
    assert client.get(url).status_code == 302  # to the login page
    client.post("/login", data={"email": staff.email, "password": "staff password 1"})
    assert client.get(url).status_code == 403
    client.post("/logout")
    create_or_update_user("org@example.kz", "organizer password", "organizer", event)
    client.post("/login", data={"email": "org@example.kz", "password": "organizer password"})
    page = client.get(url)
    assert page.status_code == 200 and "staff@example.kz" in page.text
    created = client.post(url, data={"user": str(staff.id), "name": "door 1", "hours": "8"})
    assert created.status_code == 200 and "#ert_" in created.text


def test_organizer_sees_zones_near_capacity_and_checks_a_zone_out_at_end_of_day(client, event, scan, participant):
    from eventreg.audit import AuditEntry
    from eventreg.auth.service import create_or_update_user
    from eventreg.checkin.service import get_checkpoint

    trainings = get_checkpoint(event, "trainings")
    trainings.capacity = 2
    db.session.commit()
    near = []
    for _ in range(2):
        _, code = participant()
        near.append(scan(code, checkpoint="trainings").json["zone"]["near_capacity"])
    assert near == [False, True]
    create_or_update_user("org@example.kz", "organizer password", "organizer", event)
    client.post("/login", data={"email": "org@example.kz", "password": "organizer password"})
    page = client.get(f"/organizer/events/{event.slug}/zones")
    assert "nearly full" in page.text
    response = client.post(f"/organizer/events/{event.slug}/zones",
                           data={"checkpoint": str(trainings.id), "at": "22:00"})
    assert response.status_code == 303
    assert db.session.execute(
        db.select(db.func.count()).select_from(Presence).where(Presence.checkpoint_id == trainings.id)).scalar() == 0
    entry = db.session.execute(db.select(AuditEntry).filter_by(action="zone_checked_out")).scalar_one()
    assert entry.details["people"] == 2 and entry.details["at"].endswith("+00:00")
    assert client.post(f"/organizer/events/{event.slug}/zones",
                       data={"checkpoint": str(trainings.id), "at": "late"}).status_code == 422


def test_zone_counters_follow_every_change_of_presence(scan, participant, client, event, token, staff):
    """The headcounts the door shows are counters kept by the database (ZoneCount): after each way people
    move (scan in, move, out, undo, the end of day, a person or a checkpoint deleted) they equal the
    presence rows counted."""
    from eventreg.checkin.models import ZONE_COUNT_SHARDS, Checkpoint, ZoneCount
    from eventreg.checkin.service import check_out_zone, get_checkpoint, zone_headcount
    from eventreg.registration.models import Registration

    def counters_match_presence():
        """Each counter row (a zone's shard) equals the presence rows of its share of the people."""
        db.session.expire_all()
        shard = Presence.registration_id % ZONE_COUNT_SHARDS
        counted = {(zone, part): n for zone, part, n in db.session.execute(
            db.select(Presence.checkpoint_id, shard, db.func.count()).where(Presence.checkpoint_id.is_not(None))
            .group_by(Presence.checkpoint_id, shard)).all()}
        kept = {(zone, part): inside for zone, part, inside in db.session.execute(
            db.select(ZoneCount.checkpoint_id, ZoneCount.shard, ZoneCount.inside)).all() if inside}
        assert kept == counted
        assert all(inside >= 0 for inside in db.session.execute(db.select(ZoneCount.inside)).scalars())
        by_zone = {}
        for (zone, _), n in counted.items():
            by_zone[zone] = by_zone.get(zone, 0) + n
        return by_zone

    people = [participant() for _ in range(4)]
    for _, code in people:
        assert scan(code, checkpoint="entrance").status_code == 201
    assert zone_headcount(get_checkpoint(event, "entrance")) == 4
    assert scan(people[0][1], checkpoint="trainings").status_code == 201
    assert scan(people[1][1], checkpoint="games").status_code == 201
    assert counters_match_presence() == {get_checkpoint(event, "entrance").id: 2,
                                         get_checkpoint(event, "trainings").id: 1,
                                         get_checkpoint(event, "games").id: 1}
    assert scan(people[0][1], checkpoint="trainings", direction="out").status_code == 201
    counters_match_presence()
    moved = scan(people[2][1], checkpoint="games").json
    assert client.post(f"/api/v1/events/{event.slug}/checkins/{moved['scan_id']}/undo",
                       headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert counters_match_presence()[get_checkpoint(event, "games").id] == 1

    assert check_out_zone(event, get_checkpoint(event, "entrance"), user_id=staff.id) == 2
    counters_match_presence()
    assert scan(people[3][1], checkpoint="trainings").status_code == 201
    db.session.delete(db.session.get(Registration, people[3][0].id))  # the presence row goes with it
    db.session.commit()
    counters_match_presence()
    games = get_checkpoint(event, "games")
    db.session.delete(db.session.get(Checkpoint, games.id))  # people inside are then inside nowhere
    db.session.commit()
    assert counters_match_presence() == {}


def test_an_old_code_scanned_before_its_badge_was_reissued_is_refused_after(scan, participant):
    """Genuine codes are remembered once checked (badges.credential): the generation still decides."""
    registration, old_code = participant()
    assert scan(old_code).status_code == 201
    reissue(registration)
    response = scan(old_code, checkpoint="trainings")
    assert response.status_code == 404 and response.json["reason"] == "reissued"
