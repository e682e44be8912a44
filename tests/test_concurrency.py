"""Concurrent sign-ups against the real database: never more confirmed than there are places."""
import threading
from concurrent.futures import ThreadPoolExecutor

from eventreg.extensions import db
from eventreg.registration.models import CONFIRMED, WAITLISTED, Registration

from .helpers import see_committed, sign_up_form


def test_fifty_simultaneous_sign_ups_for_the_last_ten_places(app, event):
    event.capacity = 10
    db.session.commit()
    forms = [sign_up_form(event) for _ in range(50)]
    start = threading.Barrier(50)

    def sign_up(form):
        client = app.test_client()
        start.wait()
        return client.post(f"/events/{event.slug}/register", data=form).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(sign_up, forms))

    assert statuses == [303] * 50
    see_committed()
    counts = dict(db.session.execute(
        db.select(Registration.status, db.func.count()).group_by(Registration.status)
    ).all())
    assert counts == {CONFIRMED: 10, WAITLISTED: 40}
    assert db.session.get(type(event), event.id).confirmed_count == 10


def test_simultaneous_sign_ups_with_the_same_iin_make_one_record(app, event):
    iin_form = sign_up_form(event)
    forms = [dict(iin_form, email=f"twin{i}@example.kz") for i in range(10)]
    start = threading.Barrier(10)

    def sign_up(form):
        client = app.test_client()
        start.wait()
        return client.post(f"/events/{event.slug}/register", data=form).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(pool.map(sign_up, forms))

    assert statuses == [303] + [409] * 9
    see_committed()
    assert db.session.execute(db.select(db.func.count()).select_from(Registration)).scalar() == 1
    assert db.session.get(type(event), event.id).confirmed_count == 1


def test_simultaneous_cancellations_promote_each_waitlisted_person_once(app, event, client):
    from eventreg.registration import service

    event.capacity = 5
    db.session.commit()
    for _ in range(10):
        client.post(f"/events/{event.slug}/register", data=sign_up_form(event))
    confirmed = db.session.execute(
        db.select(Registration.id).filter_by(status=CONFIRMED)
    ).scalars().all()
    start = threading.Barrier(len(confirmed))

    def cancel(registration_id):
        with app.app_context():
            start.wait()
            service.cancel(db.session.get(Registration, registration_id))

    with ThreadPoolExecutor(max_workers=len(confirmed)) as pool:
        list(pool.map(cancel, confirmed))

    see_committed()
    counts = dict(db.session.execute(
        db.select(Registration.status, db.func.count()).group_by(Registration.status)
    ).all())
    assert counts == {"cancelled": 5, CONFIRMED: 5}
    assert db.session.get(type(event), event.id).confirmed_count == 5
