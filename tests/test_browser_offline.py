"""The entrance keeps moving when the venue's network drops: a real browser, really offline."""
import pytest

from eventreg.checkin.models import Scan
from eventreg.extensions import db
from eventreg.registration import service as registrations

from .helpers import see_committed
from .test_browser_scanner import log_in, scan_like_a_handheld_scanner

pytestmark = pytest.mark.browser


@pytest.fixture
def door(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, extra_http_headers={"Accept-Language": "en"})
    page = context.new_page()
    yield context, page
    context.close()


def test_scanning_goes_on_offline_and_syncs_when_the_network_is_back(live_server, door, event, staff,
                                                                      participant, tmp_path):
    context, page = door
    first, first_code = participant(last_name="Жұмабаев", first_name="Ерлан")
    second, second_code = participant(last_name="Оспанов", first_name="Нұрлан")
    cancelled, cancelled_code = participant(last_name="Төлеуова", first_name="Гүлнар")

    log_in(page, live_server, "staff@example.kz", "staff password 1")
    page.goto(f"{live_server}/checkin/{event.slug}/entrance")
    page.wait_for_selector("#scanner[data-local-copy]")  # the local copy is downloaded
    # Predicates as functions, not expressions: Playwright re-evaluates an expression with eval() on each
    # later poll, which the page's Content-Security-Policy forbids, so it only passed when true at once.
    page.wait_for_function("() => caches.match(location.href).then(r => !!r)")  # and the page is kept
    # and the service worker that serves it offline is active (on a busy machine it can still be installing)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    page.reload()
    page.wait_for_selector("#code")
    registrations.cancel(cancelled)  # on the server, while the device cannot know

    scan_like_a_handheld_scanner(page, first_code)
    page.wait_for_selector("#result.result-green")
    assert page.locator("#offline-banner").is_visible()
    assert "Жұмабаев Ерлан" in page.locator("#result").inner_text()
    page.wait_for_timeout(2100)  # past the two-second window in which a repeat is ignored
    scan_like_a_handheld_scanner(page, first_code)
    page.wait_for_selector("#result.result-amber")
    assert "Already checked in" in page.locator("#result").inner_text()
    scan_like_a_handheld_scanner(page, second_code)
    page.wait_for_selector("#result.result-green >> text=Оспанов Нұрлан")
    scan_like_a_handheld_scanner(page, cancelled_code)
    page.wait_for_selector("#result.result-green >> text=Төлеуова Гүлнар")
    page.wait_for_selector("#queue-status >> text=Waiting to sync: 3")
    page.screenshot(path=str(tmp_path / "offline.png"))

    context.set_offline(False)
    page.wait_for_selector("#queue-status >> text=Waiting to sync: 0", timeout=20000)
    page.wait_for_selector("#conflicts li")
    assert "Төлеуова Гүлнар" in page.locator("#conflicts").inner_text()
    assert not page.locator("#offline-banner").is_visible()

    see_committed()
    scans = db.session.execute(db.select(Scan).order_by(Scan.scanned_at)).scalars().all()
    assert [(s.registration_id, s.result, s.offline) for s in scans] == [
        (first.id, "ok", True), (second.id, "ok", True), (cancelled.id, "cancelled", True)]
    assert scans[0].scanned_at < scans[1].scanned_at < scans[2].scanned_at
