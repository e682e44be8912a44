"""Event settings: organizers change the event, its regions, categories and checkpoints; the rest follows."""
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from eventreg.audit import AuditEntry
from eventreg.auth.service import create_or_update_user
from eventreg.badges.service import badge_code
from eventreg.checkin import offline
from eventreg.checkin.models import Checkpoint, ScannerToken
from eventreg.checkin.service import check_in, zone
from eventreg.checkin.tokens import create_token
from eventreg.db import as_utc
from eventreg.events.models import Category, Event, Region
from eventreg.events.service import event_options
from eventreg.extensions import db
from eventreg.notifications.models import PROMOTED, OutboxMessage
from eventreg.organizer import settings
from eventreg.registration.models import CONFIRMED, WAITLISTED, Registration

from .helpers import see_committed, sign_up_form
from .organizer_helpers import PASSWORD, category, log_in, person, region

BASE = "/organizer/events/{slug}/settings"


@pytest.fixture
def organizer(client, event):
    return log_in(client, event)


def url(event, path=""):
    return BASE.format(slug=event.slug) + path


def event_form(event, **overrides):
    """The event form as the page fills it in, with some values changed."""
    values = settings.event_values(event)

    def local(moment):
        return moment.strftime("%Y-%m-%dT%H:%M") if moment else ""

    data = {"name_kk": values.name_kk, "name_ru": values.name_ru, "name_en": values.name_en,
            "starts_on": values.starts_on.isoformat(), "ends_on": values.ends_on.isoformat(), "venue": values.venue,
            "timezone": values.timezone, "registration_opens_at": local(values.registration_opens_at),
            "registration_closes_at": local(values.registration_closes_at),
            "capacity": "" if values.capacity is None else str(values.capacity), "minor_age": str(values.minor_age)}
    data.update(overrides)
    return data


def token_of(event):
    return db.session.execute(db.select(Event.settings_token).where(Event.id == event.id)).scalar_one()


def audit(action):
    return db.session.execute(db.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)).scalars().all()


def error_of(page, field):
    """The message the page shows next to a field ('' when there is none)."""
    marker = f'id="{field}-error">'
    if marker not in page:
        return ""
    return page.split(marker, 1)[1].split("</p>", 1)[0]


def item_form(row, **overrides):
    """An item's edit form as its page fills it in."""
    data = {"name_kk": row.name_kk, "name_ru": row.name_ru, "name_en": row.name_en, "position": str(row.position + 1)}
    if isinstance(row, Category):
        data.update(badge_color=row.badge_color, capacity="" if row.capacity is None else str(row.capacity))
        if row.self_registration:
            data["self_registration"] = "y"
    if isinstance(row, Checkpoint):
        data.update(code=row.code, capacity="" if row.capacity is None else str(row.capacity),
                    category_ids=[str(c.id) for c in row.allowed_categories])
        if row.reentry_allowed:
            data["reentry_allowed"] = "y"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- the event ---

def test_the_settings_page_shows_the_event_in_its_local_time_and_the_sanitary_policy(client, event, organizer):
    event.registration_opens_at = datetime(2021, 9, 1, 3, 0, tzinfo=timezone.utc)  # 09:00 in Almaty (UTC+6)
    db.session.commit()
    page = client.get(url(event))
    assert page.status_code == 200
    assert 'value="2021-09-01T09:00"' in page.text
    assert 'value="Asia/Almaty"' in page.text and '<datalist id="timezones">' in page.text
    assert '<label for="registration_opens_at">' in page.text and 'id="registration_opens_at"' in page.text
    assert "Off: nothing is checked" in page.text  # the demo's policy enforces nothing yet
    assert f'href="/organizer/events/{event.slug}/sanitary-policy"' in page.text
    assert "takes no one&#39;s place" in page.text  # lowering the capacity is explained on the page
    assert f'href="/organizer/events/{event.slug}/settings" aria-current="page"' in page.text  # the layout's link


def test_the_event_is_saved_with_the_registration_window_in_utc(client, event, organizer):
    before = token_of(event)
    response = client.post(url(event), data=event_form(
        event, name_ru="Слет волонтеров", venue="Қонаев", starts_on="2021-09-24", ends_on="2021-09-26",
        registration_opens_at="2021-09-01T09:00", registration_closes_at="2021-09-22T00:00", capacity="",
        minor_age="16"))
    assert response.status_code == 303
    see_committed()
    saved = db.session.get(Event, event.id)
    assert (saved.name_ru, saved.venue, saved.starts_on, saved.ends_on, saved.capacity, saved.minor_age) == (
        "Слет волонтеров", "Қонаев", date(2021, 9, 24), date(2021, 9, 26), None, 16)
    # Asia/Almaty was UTC+6 in 2021.
    assert as_utc(saved.registration_opens_at) == datetime(2021, 9, 1, 3, 0, tzinfo=timezone.utc)
    assert as_utc(saved.registration_closes_at) == datetime(2021, 9, 21, 18, 0, tzinfo=timezone.utc)
    assert saved.settings_token != before
    entry, = audit("event_settings_changed")
    assert entry.user_id == organizer.id and entry.event_id == event.id
    assert entry.details["changed"]["name_ru"][1] == "Слет волонтеров"
    assert entry.details["changed"]["capacity"] == [1500, None]
    assert entry.details["changed"]["registration_opens_at"][1] == "2021-09-01T03:00:00+00:00"


def test_the_window_is_read_in_the_time_zone_entered_with_it(client, event, organizer):
    response = client.post(url(event), data=event_form(event, timezone="Asia/Aqtau",
                                                        registration_opens_at="2021-09-01T09:00"))
    assert response.status_code == 303
    see_committed()
    assert as_utc(db.session.get(Event, event.id).registration_opens_at) == datetime(
        2021, 9, 1, 4, 0, tzinfo=timezone.utc)  # Aqtau: UTC+5


BAD_EVENT_VALUES = [
    ("name_kk", "", "This field is required."),
    ("name_en", "x" * 201, "At most 200 characters."),
    ("ends_on", "2000-01-01", "The last day cannot be before the first day."),
    ("ends_on", "31.12.2021", "Not a valid date value."),
    ("timezone", "Mars/Olympus", "Unknown time zone"),
    ("timezone", "../../etc/passwd", "Unknown time zone"),
    ("registration_closes_at", "2000-01-01T00:00", "Registration must close after it opens."),
    ("registration_opens_at", "tomorrow", "Not a valid datetime value."),
    ("capacity", "-5", "Enter a whole number from 0 to 1000000."),
    ("capacity", "many", "Not a valid integer value."),
    ("minor_age", "", "This field is required."),
    ("minor_age", "99", "Enter a whole number from 1 to 30."),
]


def test_bad_event_settings_are_refused_next_to_the_field_and_change_nothing(client, event, organizer):
    before = (token_of(event), event.name_kk, event.ends_on, event.timezone, event.capacity, event.minor_age)
    for field, value, message in BAD_EVENT_VALUES:
        response = client.post(url(event), data=event_form(event, **{field: value}))
        assert response.status_code == 422, (field, value)
        assert message in error_of(response.text, field), (field, value)
        assert 'aria-invalid="true"' in response.text
        see_committed()
        saved = db.session.get(Event, event.id)
        assert (saved.settings_token, saved.name_kk, saved.ends_on, saved.timezone, saved.capacity,
                saved.minor_age) == before, (field, value)
    assert audit("event_settings_changed") == []


def test_the_page_speaks_kazakh(client, event, organizer):
    page = client.get(url(event), headers={"Accept-Language": "kk"})
    assert '<html lang="kk">' in page.text and "Санитариялық талаптар саясаты" in page.text
    refused = client.post(url(event), data=event_form(event, name_kk=""), headers={"Accept-Language": "kk"})
    assert "Бұл өрісті толтыру міндетті." in error_of(refused.text, "name_kk")


def test_raising_the_event_capacity_moves_the_waitlist_up_and_tells_them(client, event, organizer):
    event.capacity = 2
    db.session.commit()
    people = [person(event) for _ in range(4)]
    assert [p.status for p in people] == [CONFIRMED, CONFIRMED, WAITLISTED, WAITLISTED]

    response = client.post(url(event), data=event_form(event, capacity="3"), follow_redirects=True)
    assert "People who left the waitlist and are being told by email: 1." in response.text
    see_committed()
    statuses = [db.session.get(Registration, p.id).status for p in people]
    assert statuses == [CONFIRMED, CONFIRMED, CONFIRMED, WAITLISTED]  # first come, first served
    assert db.session.get(Event, event.id).confirmed_count == 3
    told = db.session.execute(db.select(OutboxMessage.registration_id).filter_by(kind=PROMOTED)).scalars().all()
    assert told == [people[2].id]
    assert audit("event_settings_changed")[-1].details["promoted"] == [people[2].reference]

    client.post(url(event), data=event_form(event, capacity=""))  # unlimited
    see_committed()
    assert db.session.get(Registration, people[3].id).status == CONFIRMED
    assert db.session.get(Event, event.id).confirmed_count == 4


def test_lowering_the_capacity_under_the_confirmed_count_takes_no_ones_place(client, event, organizer):
    people = [person(event) for _ in range(3)]
    response = client.post(url(event), data=event_form(event, capacity="1"), follow_redirects=True)
    assert response.status_code == 200
    assert "No one loses their place" in response.text
    see_committed()
    assert [db.session.get(Registration, p.id).status for p in people] == [CONFIRMED] * 3
    saved = db.session.get(Event, event.id)
    assert (saved.capacity, saved.confirmed_count) == (1, 3)
    assert person(event).status == WAITLISTED  # new sign-ups wait


# --- regions ---

def test_a_region_is_added_at_the_end_and_every_worker_sees_it(client, event, organizer):
    cached = event_options(event)  # what a worker has cached now
    before = token_of(event)
    response = client.post(url(event, "/regions"), data={"code": "ABA", "name_kk": "Абай облысы",
                                                          "name_ru": "область Абай", "name_en": ""})
    assert response.status_code == 303
    see_committed()
    fresh = db.session.get(Event, event.id)
    assert fresh.settings_token != before
    regions = event_options(fresh).regions
    assert regions is not cached.regions and regions[-1].code == "ABA"
    assert regions[-1].name_in("en") == "Абай облысы"  # no English name: the Kazakh one
    entry, = audit("region_added")
    assert (entry.user_id, entry.details["code"], entry.details["values"]["name_kk"]) == (
        organizer.id, "ABA", "Абай облысы")
    # The sign-up form offers it.
    assert "Абай облысы" in client.get(f"/events/{event.slug}/register").text


BAD_REGIONS = [
    ({"code": "ALM", "name_kk": "Тағы Алматы"}, "code", "Another one in this event has this code."),
    ({"code": "A B", "name_kk": "Бос орын"}, "code", "Use Latin letters, digits, - and _ only."),
    ({"code": "ТҮР", "name_kk": "Кирилл"}, "code", "Use Latin letters, digits, - and _ only."),
    ({"code": "X" * 17, "name_kk": "Ұзын"}, "code", "At most 16 characters."),
    ({"code": "", "name_kk": "Кодсыз"}, "code", "This field is required."),
    ({"code": "NEW", "name_kk": ""}, "name_kk", "This field is required."),
]


def test_a_bad_region_is_refused_and_nothing_is_added(client, event, organizer):
    before = (token_of(event), len(event.regions))
    for data, field, message in BAD_REGIONS:
        response = client.post(url(event, "/regions"), data=data)
        assert response.status_code == 422, data
        assert message in error_of(response.text, field), data
        see_committed()
        assert (token_of(event), db.session.execute(
            db.select(db.func.count()).select_from(Region).filter_by(event_id=event.id)).scalar()) == before, data


def test_a_region_is_renamed_and_moved_to_the_top(client, event, organizer):
    city = region(event, "AST")
    before = token_of(event)
    response = client.post(url(event, f"/regions/{city.id}"), data=item_form(
        city, name_kk="Астана қаласы", name_ru="город Астана", name_en="Astana city", position="1"))
    assert response.status_code == 303
    see_committed()
    regions = event_options(db.session.get(Event, event.id)).regions
    assert [r.code for r in regions[:2]] == ["AST", "AKM"]
    assert regions[0].names == {"kk": "Астана қаласы", "ru": "город Астана", "en": "Astana city"}
    assert [r.position for r in db.session.get(Event, event.id).regions] == list(range(17))
    assert token_of(event) != before
    entry, = audit("region_changed")
    assert entry.details["changed"]["name_en"] == ["Nur-Sultan city", "Astana city"]
    assert entry.details["changed"]["position"] == [14, 0]
    # The code stays: lists, exports and import files name the region by it.
    assert client.get(url(event, f"/regions/{city.id}")).text.count('name="code"') == 0


def test_a_region_in_use_cannot_be_removed(client, event, organizer):
    person(event, region_code="ALM")
    used = region(event, "ALM")
    page = client.get(url(event, f"/regions/{used.id}"))
    assert "This region cannot be removed: registrations use it (1)" in page.text
    response = client.post(url(event, f"/regions/{used.id}/remove"), data={"confirm": "y"}, follow_redirects=True)
    assert "This region cannot be removed" in response.text
    see_committed()
    assert db.session.get(Region, used.id) is not None and audit("region_removed") == []


def test_an_unused_region_is_removed_after_confirmation(client, event, organizer):
    unused = region(event, "SHY").id
    before = token_of(event)
    client.post(url(event, f"/regions/{unused}/remove"), data={})  # not confirmed: nothing happens
    see_committed()
    assert db.session.get(Region, unused) is not None and token_of(event) == before
    response = client.post(url(event, f"/regions/{unused}/remove"), data={"confirm": "y"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/settings/regions")
    see_committed()
    assert db.session.get(Region, unused) is None
    assert "SHY" not in {r.code for r in event_options(db.session.get(Event, event.id)).regions}
    assert token_of(event) != before
    assert audit("region_removed")[0].details["code"] == "SHY"


def test_a_region_of_another_event_is_not_found(client, event, organizer):
    other = Event(slug="other", name_kk="Басқа", name_ru="Другое", name_en="Other", starts_on=event.starts_on,
                  ends_on=event.ends_on, regions=[Region(code="X", name_kk="X", name_ru="X", name_en="X")])
    db.session.add(other)
    db.session.commit()
    foreign = other.regions[0].id
    assert client.get(url(event, f"/regions/{foreign}")).status_code == 404
    assert client.post(url(event, f"/regions/{foreign}/remove"), data={"confirm": "y"}).status_code == 404
    see_committed()
    assert db.session.get(Region, foreign) is not None


# --- categories ---

def test_a_category_is_added_with_its_colour_and_capacity(client, event, organizer):
    response = client.post(url(event, "/categories"), data={
        "code": "medic", "name_kk": "Медик", "name_ru": "Медик", "name_en": "Medic", "badge_color": "#00AA88",
        "capacity": "10"})
    assert response.status_code == 303
    see_committed()
    added = db.session.execute(db.select(Category).filter_by(event_id=event.id, code="medic")).scalar_one()
    assert (added.badge_color, added.capacity, added.self_registration, added.position) == ("#00aa88", 10, False, 6)
    assert event_options(db.session.get(Event, event.id)).category(added.id).badge_color == "#00aa88"
    assert audit("category_added")[0].details["values"]["capacity"] == 10


BAD_CATEGORY_CHANGES = [
    ({"badge_color": "red"}, "badge_color", "Enter a colour as #rrggbb"),
    ({"badge_color": "#12345g"}, "badge_color", "Enter a colour as #rrggbb"),
    ({"badge_color": "#1234567"}, "badge_color", "Enter a colour as #rrggbb"),
    ({"capacity": "-1"}, "capacity", "Enter a whole number from 0 to 1000000."),
    ({"position": "0"}, "position", "Enter a whole number from 1"),
    ({"name_kk": ""}, "name_kk", "This field is required."),
]


def test_a_bad_category_change_is_refused_and_changes_nothing(client, event, organizer):
    leaders = category(event, "group_leader")
    leaders_id = leaders.id
    before = (token_of(event), leaders.badge_color, leaders.capacity, leaders.position, leaders.name_kk)
    form = item_form(leaders)
    for overrides, field, message in BAD_CATEGORY_CHANGES:
        response = client.post(url(event, f"/categories/{leaders_id}"), data={**form, **overrides})
        assert response.status_code == 422, overrides
        assert message in error_of(response.text, field), overrides
        see_committed()
        saved = db.session.get(Category, leaders_id)
        assert (token_of(event), saved.badge_color, saved.capacity, saved.position, saved.name_kk) == before
    assert audit("category_changed") == []


def test_raising_a_category_capacity_moves_its_waitlist_up(client, event, organizer):
    leaders = category(event, "group_leader")
    leaders.capacity = 1
    db.session.commit()
    before = token_of(event)
    first, second, third = (person(event, category_code="group_leader") for _ in range(3))
    volunteer = person(event)
    assert (first.status, second.status, third.status, volunteer.status) == (CONFIRMED, WAITLISTED, WAITLISTED,
                                                                               CONFIRMED)
    response = client.post(url(event, f"/categories/{leaders.id}"), data=item_form(leaders, capacity="2"))
    assert response.status_code == 303
    see_committed()
    assert [db.session.get(Registration, p.id).status for p in (first, second, third)] == [
        CONFIRMED, CONFIRMED, WAITLISTED]
    assert db.session.get(Category, leaders.id).confirmed_count == 2
    assert db.session.get(Event, event.id).confirmed_count == 3
    assert token_of(event) != before
    assert db.session.execute(db.select(OutboxMessage.registration_id).filter_by(kind=PROMOTED)).scalars().all() == [
        second.id]
    entry, = audit("category_changed")
    assert entry.details["changed"]["capacity"] == [1, 2] and entry.details["promoted"] == [second.reference]


def test_lowering_a_category_capacity_keeps_everyone_and_says_so(client, event, organizer):
    leaders = category(event, "group_leader")
    people = [person(event, category_code="group_leader") for _ in range(2)]
    response = client.post(url(event, f"/categories/{leaders.id}"), data=item_form(leaders, capacity="0"),
                           follow_redirects=True)
    assert "No one loses their place" in response.text
    see_committed()
    assert [db.session.get(Registration, p.id).status for p in people] == [CONFIRMED, CONFIRMED]
    assert person(event, category_code="group_leader").status == WAITLISTED


def test_a_category_leaves_the_sign_up_form_when_organizers_add_it_alone(client, event, organizer):
    yrc = category(event, "yrc")
    client.post(url(event, f"/categories/{yrc.id}"), data=item_form(yrc, self_registration=None))
    see_committed()
    refused = client.post(f"/events/{event.slug}/register", data=sign_up_form(event, category=str(yrc.id)))
    assert refused.status_code == 422


def test_a_category_in_use_or_admitted_by_name_at_a_checkpoint_cannot_be_removed(client, event, organizer):
    volunteer = category(event, "volunteer")
    person(event)
    response = client.post(url(event, f"/categories/{volunteer.id}/remove"), data={"confirm": "y"},
                           follow_redirects=True)
    assert "This category cannot be removed: registrations use it (1)" in response.text

    press = category(event, "press")
    concert = db.session.execute(db.select(Checkpoint).filter_by(event_id=event.id, code="concert")).scalar_one()
    concert.allowed_categories = [press]
    db.session.commit()
    page = client.get(url(event, f"/categories/{press.id}"))
    assert "while checkpoints admit it by name: Concert" in page.text
    client.post(url(event, f"/categories/{press.id}/remove"), data={"confirm": "y"})
    see_committed()
    assert db.session.get(Category, press.id) is not None and db.session.get(Category, volunteer.id) is not None
    assert audit("category_removed") == []


def test_an_unused_category_is_removed(client, event, organizer):
    press = category(event, "press").id
    response = client.post(url(event, f"/categories/{press}/remove"), data={"confirm": "y"})
    assert response.status_code == 303
    see_committed()
    assert db.session.get(Category, press) is None
    assert [c.position for c in db.session.get(Event, event.id).categories] == list(range(5))


# --- checkpoints ---

def checkpoint(event, code):
    return db.session.execute(db.select(Checkpoint).filter_by(event_id=event.id, code=code)).scalar_one()


def enter(event, registration, code):
    return check_in(event, badge_code(registration), zone(event, code), str(uuid.uuid4()), user_id=None)


def test_a_checkpoint_is_added_and_the_door_uses_it_at_once(client, event, organizer):
    guest = category(event, "guest")
    response = client.post(url(event, "/checkpoints"), data={
        "code": "vip-hall", "name_kk": "VIP зал", "capacity": "40", "category_ids": [str(guest.id)]})
    assert response.status_code == 303
    see_committed()
    fresh = db.session.get(Event, event.id)
    hall = zone(fresh, "vip-hall")
    assert (hall.capacity, hall.reentry_allowed, hall.allowed_category_ids) == (40, False, frozenset({guest.id}))
    assert enter(fresh, person(fresh), "vip-hall").result == "not_allowed_here"
    assert enter(fresh, person(fresh, category_code="guest"), "vip-hall").result == "ok"
    assert audit("checkpoint_added")[0].details["values"]["categories"] == ["guest"]
    assert client.get(f"/checkin/{event.slug}/vip-hall").status_code == 200  # the scanner page answers


def test_a_checkpoint_is_changed_and_the_scanner_snapshot_follows(client, event, organizer):
    concert = checkpoint(event, "concert")
    someone = person(event)
    assert enter(event, someone, "concert").result == "ok"
    first = offline.snapshot(event)
    since = datetime.fromisoformat(first["cursor"]) + timedelta(minutes=1)  # later than the overlap
    assert offline.snapshot(event, since)["full"] is False

    guest = category(event, "guest")
    response = client.post(url(event, f"/checkpoints/{concert.id}"), data=item_form(
        concert, name_en="Gala concert", reentry_allowed="y", category_ids=[str(guest.id)], capacity=""))
    assert response.status_code == 303
    see_committed()
    fresh = db.session.get(Event, event.id)
    later = offline.snapshot(fresh, since - timedelta(minutes=1), language="en")
    assert later["full"] is True  # the door's per-badge data depends on which checkpoints admit once only
    door = next(c for c in later["checkpoints"] if c["code"] == "concert")
    assert (door["name"], door["reentry"], door["categories"]) == ("Gala concert", True, [guest.id])
    changed = audit("checkpoint_changed")[0].details["changed"]
    assert changed["reentry_allowed"] == [False, True] and changed["categories"] == [[], ["guest"]]
    assert changed["capacity"] == [1500, None]


def test_a_checkpoint_code_cannot_change_once_scans_were_made_there(client, event, organizer):
    entrance = checkpoint(event, "entrance")
    enter(event, person(event), "entrance")
    response = client.post(url(event, f"/checkpoints/{entrance.id}"), data=item_form(entrance, code="gate"))
    assert response.status_code == 422
    assert "The code cannot change" in error_of(response.text, "code")
    see_committed()
    assert db.session.get(Checkpoint, entrance.id).code == "entrance"

    games = checkpoint(event, "games")  # no scans yet: may be renamed
    assert client.post(url(event, f"/checkpoints/{games.id}"), data=item_form(games, code="games-2")).status_code == 303
    see_committed()
    assert db.session.get(Checkpoint, games.id).code == "games-2"


def test_a_checkpoint_with_scans_cannot_be_removed(client, event, organizer):
    entrance = checkpoint(event, "entrance")
    enter(event, person(event), "entrance")
    page = client.get(url(event, f"/checkpoints/{entrance.id}"))
    assert "This checkpoint cannot be removed: scans were made there (1)" in page.text
    assert 'name="confirm"' not in page.text  # no remove button to press
    response = client.post(url(event, f"/checkpoints/{entrance.id}/remove"), data={"confirm": "y"},
                           follow_redirects=True)
    assert "This checkpoint cannot be removed" in response.text
    see_committed()
    assert db.session.get(Checkpoint, entrance.id) is not None


def test_removing_a_checkpoint_revokes_devices_paired_for_it_alone(client, event, organizer, staff):
    games, trainings = checkpoint(event, "games"), checkpoint(event, "trainings")
    only_here, _ = create_token(staff, event, name="games phone", checkpoints=[games])
    both, _ = create_token(staff, event, name="roaming", checkpoints=[games, trainings])
    everywhere, _ = create_token(staff, event, name="any door")
    ids = (only_here.id, both.id, everywhere.id)
    games_id, trainings_id = games.id, trainings.id
    response = client.post(url(event, f"/checkpoints/{games_id}/remove"), data={"confirm": "y"},
                           follow_redirects=True)
    assert "can no longer scan: 1" in response.text
    see_committed()
    assert db.session.get(Checkpoint, games_id) is None
    only_here, both, everywhere = (db.session.get(ScannerToken, i) for i in ids)
    assert only_here.revoked_at is not None
    assert (both.revoked_at, both.checkpoint_ids) == (None, [trainings_id])
    assert (everywhere.revoked_at, everywhere.checkpoint_ids) == (None, [])
    assert audit("checkpoint_removed")[0].details["devices_revoked"] == 1


def test_a_checkpoint_must_admit_categories_of_this_event(client, event, organizer):
    other = Event(slug="other", name_kk="Басқа", name_ru="Другое", name_en="Other", starts_on=event.starts_on,
                  ends_on=event.ends_on, categories=[Category(code="x", name_kk="X", name_ru="X", name_en="X")])
    db.session.add(other)
    db.session.commit()
    with pytest.raises(settings.SettingsRefused) as refused:
        settings.add_item(event, settings.CHECKPOINT, settings.ItemValues(
            code="door", name_kk="Есік", category_ids=(other.categories[0].id,)), organizer)
    assert refused.value.errors == {"category_ids": ("category_unknown", {})}


# --- who may ---

SETTINGS_PAGES = ["", "/regions", "/categories", "/checkpoints"]


@pytest.mark.parametrize("role", ["anonymous", "staff", "organizer of another event"])
def test_only_the_events_organizers_may_see_or_change_its_settings(app, event, role):
    client = app.test_client()
    if role == "staff":
        log_in(client, event, "staff")
    elif role == "organizer of another event":
        other = Event(slug="other", name_kk="Басқа", name_ru="Другое", name_en="Other",
                      starts_on=event.starts_on, ends_on=event.ends_on)
        db.session.add(other)
        db.session.commit()
        log_in(client, other, "organizer", email="elsewhere@example.kz")
    ala = region(event, "ALA")
    before = token_of(event)
    requests = [("GET", page, None) for page in SETTINGS_PAGES] + [
        ("POST", "", event_form(event, name_kk="Басып алынған")),
        ("POST", "/regions", {"code": "HACK", "name_kk": "Бөтен"}),
        ("GET", f"/regions/{ala.id}", None),
        ("POST", f"/regions/{ala.id}", item_form(ala, name_kk="Бөтен")),
        ("POST", f"/regions/{ala.id}/remove", {"confirm": "y"}),
    ]
    for method, path, data in requests:
        response = client.open(url(event, path), method=method, data=data)
        if role == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"], path
        else:
            assert response.status_code == 403, path
    see_committed()
    assert token_of(event) == before and db.session.get(Region, ala.id).name_kk == "Алматы қаласы"
    assert db.session.execute(db.select(AuditEntry)).first() is None


def test_a_save_that_changes_nothing_keeps_the_token_and_writes_no_audit(event, organizer):
    before = token_of(event)
    leaders, concert = category(event, "group_leader"), checkpoint(event, "concert")
    same_category = settings.ItemValues(
        code=None, name_kk=leaders.name_kk, name_ru=leaders.name_ru, name_en=leaders.name_en, position=2,
        badge_color=leaders.badge_color, self_registration=True, capacity=leaders.capacity)
    same_checkpoint = settings.ItemValues(
        code="concert", name_kk=concert.name_kk, name_ru=concert.name_ru, name_en=concert.name_en, position=4,
        capacity=concert.capacity, reentry_allowed=False, category_ids=())
    assert settings.update_item(event, settings.CATEGORY, leaders, same_category, organizer).changed == {}
    assert settings.update_item(event, settings.CHECKPOINT, concert, same_checkpoint, organizer).changed == {}
    see_committed()
    assert token_of(event) == before
    assert db.session.execute(db.select(AuditEntry)).first() is None


def test_changes_made_through_the_service_renew_the_token_too(event, organizer):
    before = token_of(event)
    leaders, concert = category(event, "group_leader"), checkpoint(event, "concert")
    change = settings.update_item(event, settings.CHECKPOINT, concert, settings.ItemValues(
        code="concert", name_kk=concert.name_kk, name_ru=concert.name_ru, name_en=concert.name_en,
        capacity=concert.capacity, reentry_allowed=False, category_ids=(leaders.id,)), organizer)
    assert change.changed == {"categories": ([], ["group_leader"])}  # only the admitted categories
    see_committed()
    assert token_of(event) != before
    assert zone(db.session.get(Event, event.id), "concert").allowed_category_ids == frozenset({leaders.id})
    assert audit("checkpoint_changed")[0].user_id == organizer.id


@pytest.mark.browser
def test_an_organizer_renames_a_region_on_a_phone_without_javascript(live_server, browser, event):
    create_or_update_user("boss@example.kz", PASSWORD, "organizer", event)
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                  extra_http_headers={"Accept-Language": "en"}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", "boss@example.kz")
        page.fill("input[name=password]", PASSWORD)
        page.locator("button[type=submit]").click()
        for path in SETTINGS_PAGES:
            page.goto(live_server + url(event, path))
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        page.goto(live_server + url(event, "/regions"))
        page.get_by_role("link", name="Nur-Sultan city").click()
        page.get_by_label("Name in Kazakh").fill("Астана қаласы")  # labels are tied to their inputs
        page.get_by_role("button", name="Save").click()
        page.wait_for_load_state()
        assert "The region has been saved." in page.locator(".notice-success").inner_text()
    finally:
        context.close()
    see_committed()
    assert region(event, "AST").name_kk == "Астана қаласы"
