"""The profile page in a real browser (Debian's Chromium via Playwright) against
``profiles serve --demo`` on embedded defaults. Each test works on its own demo person
(see profiles/demo.py), so none depends on another's writes or order."""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.page_server import PageServer

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

expect.set_options(timeout=10_000)


@pytest.fixture(scope="module")
def server() -> Iterator[PageServer]:
    with PageServer() as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server, request):
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True, base_url=server.url)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    yield tab
    # The last state of every test is kept for a look when something fails.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"last-{request.node.name}.png"), full_page=True)
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def open_profile(page, value: str, kind: str = "email") -> None:
    page.goto("/#/demo")
    page.select_option("#search-kind", kind)
    page.fill("#search-input", value)
    page.click("#search-form button[type=submit]")
    expect(page.locator("#profile-view")).to_be_visible()


def channel(page, name: str):
    return page.locator(f'article.channel[data-channel="{name}"]')


def confirm(page) -> None:
    expect(page.locator("#dialog")).to_be_visible()
    page.click("#dialog-ok")
    expect(page.locator("#dialog")).to_be_hidden()


def test_domains_and_contact_list(page):
    page.goto("/")
    expect(page.locator("#domain-select option[value=demo]")).to_have_count(1)
    expect(page.locator("#domain-select")).to_have_value("demo")
    expect(page.locator("#contact-rows tr")).to_have_count(12)
    page.get_by_role("link", name="Ava Johnson").click()
    expect(page.locator("#profile-name")).to_have_text("Ava Johnson")


@pytest.mark.parametrize(("kind", "value"), [
    ("email", "  JOHN.SMITH@example.com "),  # normalised like the API does
    ("phoneNumber", "+447700900123"),
    ("userId", "u-1003"),
])
def test_search_by_each_identifier(page, kind, value):
    open_profile(page, value, kind)
    expect(page.locator("#profile-name")).to_have_text("John Smith")
    expect(page.locator('dd[data-field="email"]')).to_have_text("john.smith@example.com")
    expect(page.locator('dd[data-field="phoneNumber"]')).to_have_text("+447700900123")
    expect(page.locator('dd[data-field="userId"]')).to_have_text("u-1003")
    expect(page.locator(".facts.readonly")).to_contain_text("import")


def test_unknown_identifier_says_so(page):
    page.goto("/#/demo")
    page.fill("#search-input", "nobody@example.com")
    page.click("#search-form button[type=submit]")
    expect(page.locator("#contact-rows")).to_contain_text("No contact has this identifier")


def test_subscription_change_asks_for_confirmation(page):
    open_profile(page, "mark.kask@example.com")
    email = channel(page, "email")
    expect(email.locator(".pill")).to_have_text("Subscribed")

    page.select_option("#status-email", "unsubscribed")
    expect(page.locator("#dialog")).to_contain_text("from “Subscribed” to “Unsubscribed”")
    page.click("#dialog-cancel")
    expect(page.locator("#status-email")).to_have_value("subscribed")
    expect(email.locator(".pill")).to_have_text("Subscribed")

    page.select_option("#status-email", "unsubscribed")
    confirm(page)
    expect(email.locator(".pill")).to_have_text("Unsubscribed")
    expect(page.locator('#feed li[data-type="subscription.changed"]').first).to_be_visible()
    # Mark never opted in to Telegram: manual re-subscription is not offered.
    expect(page.locator('#status-telegram option[value="subscribed"]')).to_be_disabled()
    expect(channel(page, "telegram")).to_contain_text("never subscribed to Telegram")


def test_resubscribe_is_offered_after_a_prior_opt_in(page):
    open_profile(page, "john.smith@example.com")  # opted in to Telegram himself (demo data)
    page.select_option("#status-telegram", "unsubscribed")
    confirm(page)
    expect(channel(page, "telegram").locator(".pill")).to_have_text("Unsubscribed")
    expect(page.locator('#status-telegram option[value="subscribed"]')).to_be_enabled()
    page.select_option("#status-telegram", "subscribed")
    confirm(page)
    expect(channel(page, "telegram").locator(".pill")).to_have_text("Subscribed")
    page.locator('article[data-channel="telegram"] button', has_text="Consent history").click()
    expect(page.locator("#dialog tbody tr")).to_have_count(3)
    page.click("#dialog-ok")


def test_blacklisted_channel_is_marked_and_cannot_be_messaged(page):
    open_profile(page, "emma.brown@example.com")
    email = channel(page, "email")
    expect(email).to_have_class("channel status-subscribed blacklisted")
    expect(email.locator(".blacklist-mark")).to_contain_text("Blacklisted · hard bounce")

    page.select_option("#send-channel", "email")
    expect(page.locator("#send-button")).to_be_disabled()
    expect(page.locator("#send-reason")).to_contain_text("Email is blacklisted (hard bounce)")
    page.select_option("#send-channel", "sms")  # Emma's SMS is open
    expect(page.locator("#send-button")).to_be_enabled()


def test_send_message_then_resend_from_feed(page):
    open_profile(page, "anna.tamm@example.com")
    page.select_option("#send-channel", "email")
    expect(page.locator("#send-template option", has_text="Welcome back")).to_have_count(1)
    expect(page.locator("#send-template option", has_text="Weekly digest")).to_have_count(0)  # a draft
    page.click("#send-button")
    confirm(page)
    sent = page.locator('#feed li[data-type="message.sent"]')
    expect(sent).to_have_count(1)

    sent.locator("button", has_text="Info").click()
    expect(page.locator("#dialog dl")).to_contain_text("Message ID")
    page.click("#dialog-ok")

    sent.locator("button", has_text="Resend").click()
    confirm(page)
    expect(page.locator('#feed li[data-type="message.resent"]')).to_have_count(1)
    expect(page.locator("#feed li").first).to_have_attribute("data-type", "message.resent")  # newest first

    page.select_option("#feed-type", "message.sent")
    expect(page.locator("#feed li")).to_have_count(1)
    expect(page.locator("#feed li").first).to_have_attribute("data-type", "message.sent")


def test_a_send_whose_answer_was_lost_is_not_sent_twice_when_pressed_again(page):
    """The request reaches the service, the answer never reaches the browser (a dropped
    connection): the dialog says so and stays open; pressing Send again must not send a
    second message (the page sends one Idempotency-Key per confirmed send)."""
    open_profile(page, "ava.johnson@example.com")
    lost = []

    def lose_the_first_answer(route):
        if not lost:
            lost.append(route.fetch().status)  # the service gets and applies the send …
            route.abort()  # … and the browser never hears back
        else:
            route.continue_()

    page.route("**/messages", lose_the_first_answer)
    page.select_option("#send-channel", "email")
    page.click("#send-button")
    expect(page.locator("#dialog")).to_be_visible()
    page.click("#dialog-ok")
    expect(page.locator("#dialog-error")).to_be_visible()
    assert lost == [202]
    confirm(page)  # pressed again
    expect(page.locator('#feed li[data-type="message.sent"]')).to_have_count(1)


def test_a_note_whose_answer_was_lost_is_not_added_twice_when_pressed_again(page):
    """As for a send: the page sends one Idempotency-Key per note as written, so pressing
    "Add note" again after a dropped answer adds it once."""
    open_profile(page, "olga.ivanova@example.com")
    before = int(page.locator("#notes-count").inner_text().split("/")[0])
    lost = []

    def lose_the_first_answer(route):
        if not lost:
            lost.append(route.fetch().status)
            route.abort()
        else:
            route.continue_()

    page.route("**/notes", lose_the_first_answer)
    page.fill("#note-author", "Kati from CRM")
    page.fill("#note-text", "Asked for a callback on Monday")
    page.click("#note-add")
    expect(page.locator("#alert")).to_be_visible()
    assert lost == [201]
    page.click("#note-add")  # pressed again
    expect(page.locator("#notes-count")).to_have_text(f"{before + 1}/5")
    expect(page.locator("li.note", has_text="callback on Monday")).to_have_count(1)


def test_notes_up_to_the_limit_and_permanent_delete(page):
    open_profile(page, "liis.saar@example.com")
    page.fill("#note-author", "Kati from CRM")
    for n in range(1, 6):
        page.fill("#note-text", f"Called about order #{n}")
        page.click("#note-add")
        expect(page.locator("#notes-count")).to_have_text(f"{n}/5")
    expect(page.locator("#note-add")).to_be_disabled()
    expect(page.locator("#note-limit")).to_contain_text("5 notes, the most allowed")
    expect(page.locator("li.note").first).to_contain_text("Kati from CRM")

    page.locator("li.note", has_text="order #3").locator("button", has_text="Delete").click()
    expect(page.locator("#dialog")).to_contain_text("cannot be undone")
    confirm(page)
    expect(page.locator("#notes-count")).to_have_text("4/5")
    expect(page.locator("li.note", has_text="order #3")).to_have_count(0)
    expect(page.locator("#note-add")).to_be_enabled()


def test_export_full_history(page):
    open_profile(page, "lukas.muller@example.com")
    with page.expect_download() as caught:
        page.click("#export-history")
    download = caught.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    types = {row["type"] for row in rows}
    assert "contact.created" in types and "activity" in types, types


def test_variables_search_and_inline_edit(page):
    open_profile(page, "sofia.rossi@example.com")
    page.fill("#variable-search", "city")
    expect(page.locator("#variable-rows tr")).to_have_count(1)
    row = page.locator('tr[data-variable="city"]')
    row.get_by_role("button", name="Edit city").click()
    page.fill("#edit-var-city", "Roma")
    page.keyboard.press("Enter")
    expect(page.locator('tr[data-variable="city"] .value')).to_have_text("Roma")


def test_profile_on_a_phone_and_screenshot(browser, server):
    context = browser.new_context(viewport=PHONE, base_url=server.url, is_mobile=True)
    phone = context.new_page()
    open_profile(phone, "olga.ivanova@example.com")
    expect(phone.locator("#feed li").first).to_be_visible()
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page scrolls sideways by {overflow}px on a phone"
    unlabeled = phone.evaluate("""[...document.querySelectorAll('input, select, textarea, button')]
        .filter(el => !el.closest('[hidden]') && !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                      && !(el.textContent || '').trim()).map(el => el.id || el.outerHTML.slice(0, 60))""")
    assert unlabeled == [], f"controls without an accessible name: {unlabeled}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "profile-phone.png"), full_page=True)
    context.close()


def test_profile_screenshot(page):
    open_profile(page, "jonas.kazlauskas@example.com")
    page.select_option("#status-sms", "subscribed")  # email is blacklisted; SMS is his way in
    confirm(page)
    expect(channel(page, "sms").locator(".pill")).to_have_text("Subscribed")
    page.select_option("#send-channel", "sms")
    page.click("#send-button")
    confirm(page)
    expect(page.locator('#feed li[data-type="message.sent"]')).to_have_count(1)
    page.fill("#note-author", "Mari (support)")
    page.fill("#note-text", "Prefers SMS over email; asked about the loyalty programme.")
    page.click("#note-add")
    expect(page.locator("#notes-count")).to_have_text("1/5")
    expect(page.locator("#feed li").first).to_be_visible()
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.evaluate("document.getElementById('status').style.display = 'none'")  # the passing toast
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "profile.png"), full_page=True)
    if os.environ.get("PROFILES_UPDATE_SCREENSHOT"):  # refresh the README's picture on request only
        shutil.copyfile(ARTIFACTS / "profile.png", ROOT / "docs" / "screenshot.png")


def test_api_errors_are_shown_in_words_and_avatar_link_changes(page):
    open_profile(page, "chloe.martin@example.com")
    page.click("#edit-avatar")
    page.fill("#avatar-url", "ftp://files.example.com/me.png")  # a URL, but not http(s)
    page.click("#dialog-ok")
    expect(page.locator("#dialog-error")).to_contain_text("Some values are not valid")
    expect(page.locator("#dialog")).to_be_visible()
    page.fill("#avatar-url", "https://cdn.example.com/chloe.png")
    confirm(page)
    expect(page.locator("#status")).to_have_text("Avatar link saved.")
    found = page.request.get("/v1/domains/demo/contacts", params={"email": "chloe.martin@example.com"}).json()
    assert found["items"][0]["avatarLink"] == "https://cdn.example.com/chloe.png"


def test_dialogs_work_from_the_keyboard(page):
    open_profile(page, "maria.garcia@example.com")
    page.locator("#edit-avatar").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#dialog")).to_be_visible()
    expect(page.locator("#avatar-url")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#dialog")).to_be_hidden()
    expect(page.locator("#edit-avatar")).to_be_focused()

    page.locator("#note-author").fill("Keyboard user")
    page.locator("#note-text").fill("Typed and sent without a mouse")
    page.locator("#note-add").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#notes-count")).to_have_text("1/5")
    page.locator("li.note button", has_text="Delete").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#dialog-cancel")).to_be_focused()  # a destructive dialog starts on the safe choice
    page.keyboard.press("Escape")
    expect(page.locator("#notes-count")).to_have_text("1/5")
