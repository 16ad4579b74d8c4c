"""Console tests: a real Chromium (Debian's, never a downloaded one) driven by Playwright.

Without /usr/bin/chromium the browser tests are skipped, unless SWITCHBOARD_REQUIRE_BROWSER=1
(CI) makes that a failure. Playwright's sync API keeps an event loop running in the test
thread while a browser is open, so `server.query` (which calls `asyncio.run`) goes through
`query()` here, in a thread of its own; and the browser lives for one module only, so the
other suites get their thread back.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Server
from tests.receiving.conftest import App

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1360, "height": 900}


def _require_browser() -> None:
    required = os.environ.get("SWITCHBOARD_REQUIRE_BROWSER") == "1"
    missing = None
    if not CHROMIUM.exists():
        missing = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "the playwright package is not installed (pip install -e '.[test]')"
    if missing is None:
        return
    if required:
        pytest.fail(f"SWITCHBOARD_REQUIRE_BROWSER=1 but {missing}")
    pytest.skip(f"browser tests skipped: {missing}")


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Any]:
    """One Chromium per module and backend: depending on `server` closes it before pytest
    sets up the next backend (whose set-up runs `asyncio.run`)."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        pw.stop()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    """A fresh browser tab on the server; any script error or CSP violation fails the test."""
    context = browser.new_context(base_url=server.base_url, viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def on_console(msg: Any) -> None:
        # A refused form is answered 422 (and re-shown with its error); Chromium logs that.
        if msg.type == "error" and "status of 422" not in msg.text:
            problems.append(f"console {msg.type}: {msg.text}")

    tab.on("console", on_console)

    def on_dialog(dialog: Any) -> None:  # e.g. an alert() some unescaped text would run
        problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    try:
        yield tab
    finally:
        context.close()
    assert problems == []


@pytest.fixture
def app() -> Iterator[App]:
    """The messaging app's webhook endpoint."""
    receiver = App().start()
    try:
        yield receiver
    finally:
        receiver.stop()


def query(server: Server, sql: str, **params: Any) -> list[dict[str, Any]]:
    """`server.query` from a thread of its own (see the module docstring)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(server.query, sql, **params).result()


def screenshot(tab: Any, directory: Path, name: str) -> Path:
    path = directory / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path
