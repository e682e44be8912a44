"""Staff at the door, in a real browser: log in, scan with a handheld scanner, read the colour."""
import pytest

from eventreg.badges.service import reissue

pytestmark = pytest.mark.browser


@pytest.fixture
def door(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US",
                                  extra_http_headers={"Accept-Language": "en"})
    page = context.new_page()
    yield page
    context.close()


def log_in(page, live_server, email, password):
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def scan_like_a_handheld_scanner(page, code):
    """A USB or Bluetooth scanner types the code and presses Enter into whatever has focus."""
    page.keyboard.type(code, delay=0)
    page.keyboard.press("Enter")


def test_staff_checks_people_in_with_a_handheld_scanner(live_server, door, event, staff, participant, tmp_path):
    first, first_code = participant(last_name="Жұмабаев", first_name="Ерлан")
    lost, lost_old_code = participant(last_name="Төлеуова", first_name="Гүлнар")
    reissue(lost)
    second, second_code = participant(last_name="Оспанов", first_name="Нұрлан")

    log_in(door, live_server, "staff@example.kz", "staff password 1")
    door.goto(f"{live_server}/checkin/{event.slug}/entrance")
    result = door.locator("#result")
    assert door.evaluate("document.activeElement.id") == "code"

    scan_like_a_handheld_scanner(door, first_code)
    door.wait_for_selector("#result.result-green")
    assert "Checked in" in result.inner_text()
    assert "Жұмабаев Ерлан" in result.inner_text()
    assert "Volunteer" in result.inner_text()
    door.screenshot(path=str(tmp_path / "green.png"))

    scan_like_a_handheld_scanner(door, lost_old_code)
    door.wait_for_selector("#result.result-red")
    assert "Unknown or revoked badge" in result.inner_text()
    door.screenshot(path=str(tmp_path / "red.png"))

    # The next badge, without touching the screen: the input is ready again.
    assert door.evaluate("document.activeElement.id") == "code"
    scan_like_a_handheld_scanner(door, second_code)
    door.wait_for_selector("#result.result-green")
    assert "Оспанов Нұрлан" in result.inner_text()

    scan_like_a_handheld_scanner(door, first_code)
    door.wait_for_selector("#result.result-amber")
    assert "Already checked in" in result.inner_text()
    assert "staff@example.kz" in result.inner_text()


def test_staff_finds_a_person_without_a_badge_by_name(live_server, door, event, staff, participant):
    participant(last_name="Құрманғалиева", first_name="Ұлжан")
    log_in(door, live_server, "staff@example.kz", "staff password 1")
    door.goto(f"{live_server}/checkin/{event.slug}/entrance")
    door.get_by_label("Find by name, reference, phone or IIN").fill("құрманғ")
    door.get_by_role("button", name="Құрманғалиева Ұлжан").click()
    door.wait_for_selector("#result.result-green")
    assert "Құрманғалиева Ұлжан" in door.locator("#result").inner_text()


def test_the_scanner_page_needs_a_staff_login(live_server, door, event):
    door.goto(f"{live_server}/checkin/{event.slug}/entrance")
    assert "/login" in door.url


def test_organizer_pairs_a_phone_that_then_scans_without_logging_in(live_server, browser, door, event, staff,
                                                                     participant):
    from eventreg.auth.service import create_or_update_user

    create_or_update_user("org@example.kz", "organizer password", "organizer", event)
    _, code = participant(last_name="Жұмабаев", first_name="Ерлан")
    _, next_code = participant(last_name="Оспанов", first_name="Нұрлан")
    log_in(door, live_server, "org@example.kz", "organizer password")
    door.goto(f"{live_server}/organizer/events/{event.slug}/devices")
    door.get_by_label("Staff member").select_option(label="staff@example.kz")
    door.get_by_label("Device name").fill("entrance phone 2")
    door.get_by_role("button", name="Make a pairing code").click()
    assert door.locator(".pairing-qr svg").is_visible()
    pairing_url = door.locator("code.token").inner_text()
    assert "#ert_" in pairing_url

    phone = browser.new_context(viewport={"width": 390, "height": 844}, extra_http_headers={"Accept-Language": "en"})
    device = phone.new_page()
    device.goto(pairing_url)
    device.get_by_role("link", name="Main entrance").click()
    device.wait_for_selector("#code:focus")
    scan_like_a_handheld_scanner(device, code)
    device.wait_for_selector("#result.result-green")
    assert "Жұмабаев Ерлан" in device.locator("#result").inner_text()

    door.get_by_role("button", name="Revoke").click()
    door.wait_for_selector("text=revoked")
    scan_like_a_handheld_scanner(device, next_code)
    device.wait_for_selector("#result.result-red")
    assert "may no longer scan" in device.locator("#result").inner_text()
    phone.close()
