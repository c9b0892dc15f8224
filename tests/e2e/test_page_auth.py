"""The page behind API keys: it asks for a key, remembers it, and sends it everywhere
(downloads included, which a plain link could not)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.page_server import PageServer
from tests.e2e.test_page import ARGS, CHROMIUM, LAPTOP, open_profile

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
pytestmark = pytest.mark.browser
KEY = "page-test-key"


@pytest.fixture(scope="module")
def keyed_server() -> Iterator[PageServer]:
    with PageServer(api_keys=f"demo:{KEY},other:another-key") as running:
        yield running


def test_page_asks_for_the_api_key_and_uses_it(keyed_server):
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport=LAPTOP, accept_downloads=True, base_url=keyed_server.url)
        page = context.new_page()
        page.goto("/")
        expect(page.locator("#alert")).to_contain_text("needs a valid API key")
        expect(page.locator("#dialog")).to_be_visible()
        page.fill("#api-key", KEY)
        page.click("#dialog-ok")
        expect(page.locator("#domain-select")).to_have_value("demo")
        expect(page.locator("#contact-rows tr")).to_have_count(12)

        page.reload()  # the key is remembered in this browser
        open_profile(page, "u-1011", "userId")
        expect(page.locator("#profile-name")).to_have_text("Ava Johnson")
        with page.expect_download() as caught:
            page.click("#export-history")
        assert Path(caught.value.path()).read_text(encoding="utf-8").startswith("id,type,occurredAt")
        context.close()
        browser.close()
