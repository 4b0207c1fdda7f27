"""Real-browser tests: Debian's Chromium driven by Playwright (browsers cannot be downloaded).

Use the ``page`` fixture (imported in tests/conftest.py) with ``live_server`` and ``entra``:

    def test_something(entra, live_server, page):
        sign_in_with_microsoft(page, live_server.url, person_oid, next_path="/admin-tools/")
        save_screenshot(page, "admin-tools-home")
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest

CHROMIUM = os.environ.get("KEYFAX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
DOC_SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"{CHROMIUM} is missing: install Debian's chromium (make browsers) "
            "or point KEYFAX_CHROMIUM at a Chromium binary."
        )
    # Playwright's sync API keeps an event loop running in this thread while it is open, which
    # makes Django think the (synchronous) test code is async; Django's documented escape
    # hatch, for as long as Playwright runs, and the environment as it was once it has stopped.
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture
def page(chromium):
    """A fresh browser context (own cookies) and page, 1200x800, per test."""
    context = chromium.new_context(viewport={"width": 1200, "height": 800}, locale="en-GB")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def sign_in_with_microsoft(page, base_url: str, person_oid: str, next_path: str = "/") -> None:
    """Click through the sign-in page and the emulator's account picker, as a person would."""
    page.goto(f"{base_url}/accounts/login/?next={quote(next_path)}")
    page.get_by_role("link", name="Sign in with Microsoft").click()
    page.wait_for_selector("text=Pick an account")
    page.locator(f'button[name="account"][value="{person_oid}"]').click()
    page.wait_for_url(f"{base_url}{next_path}*")


def save_screenshot(page, name: str) -> Path:
    """Take a full-page PNG. ``make screenshots`` (KEYFAX_SCREENSHOTS=docs) refreshes the ones
    under docs/screenshots/ shown in the README; an ordinary test run keeps them in a
    scratch folder so it never dirties the work tree."""
    folder = DOC_SCREENSHOTS if os.environ.get("KEYFAX_SCREENSHOTS") == "docs" else _scratch()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000, f"{path} is not a real screenshot"
    return path


def _scratch() -> Path:
    return Path(tempfile.gettempdir()) / "keyfax-screenshots"
