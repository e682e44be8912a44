"""What a scanning device keeps for working without the network, and taking its scans back.

The local copy holds what the door needs and nothing more: per badge the registration id and
badge generation (codes are signed: the device checks the signature with the event's public
key and finds the person by id, so it never holds a valid code), a salted hash of the printed
reference for manual entry, the name, category, region, status and where the person is. No
IIN, phone or email ever reaches the device.

Syncing applies each offline scan through check_in() with the time it was made, idempotently by
scan_id. When two devices let the same person in while offline, the earliest scan is kept and
the other becomes a conflict; a scan of a badge cancelled or reissued meanwhile is a conflict too.
"""
import base64
import hashlib
from datetime import timedelta

from sqlalchemy import or_

from ..badges.service import event_public_key
from ..db import as_utc, utcnow, write_transaction
from ..events.service import event_options
from ..extensions import db
from ..registration.models import Registration
from . import service
from .models import IN, Presence, Scan

# Changes committed shortly before a download may carry an older timestamp: re-send that margin.
CURSOR_OVERLAP = timedelta(seconds=30)
MAX_SYNC_BATCH = 2000
CONFLICT_RESULTS = {"conflict", "cancelled", "not_confirmed", "not_allowed_here", "unknown_code"}


def reference_hash(event_id, reference):
    """What the device stores for the printed reference: enough to match what staff type, not the reference."""
    return hashlib.sha256(f"eventreg-ref:{event_id}:{reference}".encode()).hexdigest()[:16]


def snapshot(event, since=None, language="kk"):
    """The door's data for an event: everything, or what changed since the cursor of an earlier download."""
    cursor = utcnow()
    options = event_options(event)
    if since is not None and (_policy_changed_since(event, as_utc(since))
                              or _checkpoints_changed_since(event, as_utc(since) - CURSOR_OVERLAP)):
        # Every badge's sanitary state, or the once-only checkpoints it has entered, may have changed.
        since = None
    query = db.select(Registration).where(Registration.event_id == event.id)
    if since is not None:
        since = as_utc(since) - CURSOR_OVERLAP
        from ..attestations.models import Evidence, HealthDeclaration

        moved = db.select(Scan.registration_id).where(Scan.event_id == event.id, Scan.recorded_at >= since)
        # A document added or reviewed, or a declaration made, changes the sanitary state the door keeps.
        documents = db.select(Evidence.registration_id).where(
            Evidence.event_id == event.id, or_(Evidence.created_at >= since, Evidence.reviewed_at >= since))
        declared = db.select(HealthDeclaration.registration_id).where(HealthDeclaration.at >= since)
        query = query.where(or_(Registration.updated_at >= since, Registration.id.in_(moved),
                                Registration.id.in_(documents), Registration.id.in_(declared)))
    people = db.session.execute(query).scalars().all()
    zones = _zones(event.id)
    once_only = {c.id for c in options.checkpoints if not c.reentry_allowed}
    entered = _entered(event.id, once_only)
    badges = [_badge(r, options, zones, entered, language) for r in people]
    sanitary = _sanitary(event, people, badges, cursor)
    return {
        "cursor": cursor.isoformat(),
        "full": since is None,
        "event": {"id": event.id, "slug": event.slug, "timezone": event.timezone,
                  "public_key": base64.b64encode(event_public_key(event)).decode()},
        "checkpoints": [{"id": c.id, "code": c.code, "name": c.name_in(language), "reentry": c.reentry_allowed,
                         "categories": sorted(c.allowed_category_ids)} for c in options.checkpoints],
        "categories": {c.id: {"name": c.name_in(language), "color": c.badge_color} for c in options.categories},
        "regions": {r.id: r.name_in(language) for r in options.regions},
        "sanitary": sanitary,
        "badges": badges,
    }


def _badge(registration, options, zones, entered, language):
    """One person as the device keeps them, with short keys: 10,000 of them download in a blink."""
    return {
        "i": registration.id,
        "g": registration.badge_generation,
        "r": reference_hash(registration.event_id, registration.reference),
        "n": registration.full_name,
        "c": registration.category_id,
        "rg": registration.region_id,
        "s": registration.status,
        "z": zones.get(registration.id),
        "e": sorted(entered.get(registration.id, ())),
    }


def _policy_changed_since(event, since):
    from ..attestations.service import get_policy

    policy = get_policy(event)
    return policy is not None and as_utc(policy.updated_at) >= since


def _checkpoints_changed_since(event, since):
    from ..organizer.settings import door_settings_changed_since

    return door_settings_changed_since(event, since)


def _sanitary(event, people, badges, at):
    """The sanitary policy's mode and, per badge, the state and end of validity at download time.

    The device decides a scan made later with these: still valid at the moment of the scan (and,
    where a same-day declaration is required, on the day of the download), or not. The server
    decides again with everything when the scan is synced.
    """
    from ..attestations import status as rules_of
    from ..attestations.service import checks_documents, policy_rules, statuses_for

    if not checks_documents(event):
        return {"mode": rules_of.OFF}
    rules = policy_rules(event)
    statuses = statuses_for(event, people, at)
    for badge in badges:
        status = statuses.get(badge["i"])
        badge["ss"] = status.state if status else rules_of.MISSING
        badge["sv"] = status.valid_until.isoformat() if status and status.valid_until else None
    return {"mode": rules.mode, "declaration_required": rules.declaration_required,
            "computed_on": at.astimezone(event.tz).date().isoformat()}


def _zones(event_id):
    rows = db.session.execute(
        db.select(Presence.registration_id, Presence.checkpoint_id)
        .where(Presence.event_id == event_id, Presence.checkpoint_id.is_not(None)))
    return dict(rows.all())


def _entered(event_id, once_only):
    """Who has entered which once-only checkpoint (a second entry there is "already checked in")."""
    if not once_only:
        return {}
    rows = db.session.execute(
        db.select(Scan.registration_id, Scan.checkpoint_id).distinct()
        .where(Scan.event_id == event_id, Scan.checkpoint_id.in_(once_only), Scan.result == "ok",
               Scan.direction == IN, Scan.undone_at.is_(None)))
    entered = {}
    for registration_id, checkpoint_id in rows:
        entered.setdefault(registration_id, set()).add(checkpoint_id)
    return entered


class SyncRefused(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


def sync(event, token, scans, language="kk"):
    """Apply a device's queued scans, oldest first. Returns one answer per scan, in the order sent.

    Sending the same batch again changes nothing and gives the same answers.
    """
    if not isinstance(scans, list) or len(scans) > MAX_SYNC_BATCH:
        raise SyncRefused("invalid_batch")
    parsed = [_parse(item) for item in scans]
    # A batch sent again (its answer was lost on the way back) is mostly known already: one query
    # finds those scans, and they get their recorded answers without being decided again.
    known = dict(db.session.execute(
        db.select(Scan.scan_id, Scan.response)
        .where(Scan.event_id == event.id, Scan.scan_id.in_([item["scan_id"] for item in parsed]))).all())
    order = sorted(range(len(parsed)), key=lambda i: (parsed[i]["scanned_at"] or utcnow(), i))
    answers = [None] * len(parsed)
    for i in order:
        recorded = known.get(parsed[i]["scan_id"])
        answers[i] = (_answer(service.Outcome(0, recorded)) if recorded is not None
                      else _apply(event, token, parsed[i], language))
    return answers


def _parse(item):
    if not isinstance(item, dict):
        raise SyncRefused("invalid_scan")
    try:
        scanned_at = service.parse_scanned_at(item.get("scanned_at"))
    except service.ScanRefused:
        raise SyncRefused("invalid_scanned_at") from None
    return {"scan_id": str(item.get("scan_id") or ""), "code": str(item.get("code") or ""),
            "checkpoint": str(item.get("checkpoint") or ""), "direction": str(item.get("direction") or IN),
            "scanned_at": scanned_at}


def _apply(event, token, item, language):
    checkpoint = service.zone(event, item["checkpoint"])
    if checkpoint is None or not token.may_scan_at(checkpoint.id):
        return {"scan_id": item["scan_id"], "result": "conflict", "reason": "unknown_checkpoint"}
    try:
        outcome = service.check_in(event, item["code"], checkpoint, item["scan_id"], user_id=token.user_id,
                                   token_id=token.id, scanned_at=item["scanned_at"], direction=item["direction"],
                                   language=language, offline=True)
    except service.ScanRefused as refused:
        return {"scan_id": item["scan_id"], "result": "conflict", "reason": refused.result}
    if outcome.result == "already_checked_in":
        outcome = _earliest_wins(event, item["scan_id"], language)
    return _answer(outcome)


def _answer(outcome):
    body = dict(outcome.body)
    if body["result"] in CONFLICT_RESULTS:
        body["reason"] = body.get("reason") or body["result"]
        body["result"] = "conflict"
    return body


def _earliest_wins(event, scan_id, language):
    """Two check-ins of one person at one checkpoint, made offline: keep the earlier one.

    The scan just recorded as "already checked in" either is later than the entry on record (it
    becomes the conflict) or earlier (it takes the entry's place, and the entry becomes the conflict).
    """
    with write_transaction():
        scan = db.session.execute(
            db.select(Scan).filter_by(event_id=event.id, scan_id=scan_id).with_for_update()).scalar_one()
        service.lock_registration(scan.registration_id)
        kept = service.first_entry(scan.registration_id, scan.checkpoint_id)
        if kept is None or scan.result != "already_checked_in":
            return service.Outcome(scan.status, dict(scan.response))
        if as_utc(scan.scanned_at) < as_utc(kept.scanned_at):
            scan, kept = _swap(scan, kept, language)
        else:
            _mark_conflict(scan, kept, language)
        return service.Outcome(scan.status, dict(scan.response))


def _swap(earlier, entry, language):
    """The earlier offline scan becomes the entry; the entry on record becomes its conflict."""
    earlier.result, earlier.status = "ok", 201
    earlier.response = {**entry.response, "scan_id": earlier.scan_id, "result": "ok",
                        "checked_in_at": as_utc(earlier.scanned_at).isoformat()}
    # Only if they are still inside where that entry put them (a scan takes no lock on PostgreSQL).
    db.session.execute(
        db.update(Presence).where(Presence.registration_id == earlier.registration_id,
                                  Presence.checkpoint_id == entry.checkpoint_id)
        .values(since=earlier.scanned_at).execution_options(synchronize_session=False))
    earlier.previous_checkpoint_id = entry.previous_checkpoint_id
    _mark_conflict(entry, earlier, language)
    return earlier, entry


def _mark_conflict(scan, kept, language):
    scan.result, scan.status = "conflict", 409
    scan.response = {**scan.response, "result": "conflict", "reason": "already_checked_in",
                     "first": service.entry_card(kept, language)}


def conflicts(event):
    """Offline scans the server did not accept as made, for the organizers' list (newest first)."""
    from sqlalchemy.orm import joinedload

    return db.session.execute(
        db.select(Scan).where(Scan.event_id == event.id, Scan.offline.is_(True), Scan.result != "ok")
        .options(joinedload(Scan.user), joinedload(Scan.checkpoint), joinedload(Scan.token))
        .order_by(Scan.scanned_at.desc())
    ).scalars().all()
