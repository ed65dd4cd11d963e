"""Browser tests against the whole local platform (`make up`), driven by Playwright through Debian's Chromium.

The session fixture brings the platform up (idempotent; it reuses a running one and leaves that running, and
stops only what it started). Screenshots: on failure always, of every step with SCREENSHOTS=1, under
reports/screenshots/<test>/. Chromium missing or failing to start fails under CI=true and skips otherwise."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Error, Page, Playwright, expect, sync_playwright

from apps.platform import control, lifecycle, settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = settings.REPORTS_DIR / "screenshots"
IN_CI = os.environ.get("CI", "").lower() == "true"
# The machine is shared (2 cores, often busy): assertions wait up to 15 s for the page to get there.
expect.set_options(timeout=15_000)


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and the browser cannot run: {reason}")
    pytest.skip(f"browser tests need Chromium: {reason} (install it with `make setup`)")


@pytest.fixture(scope="package")  # torn down right after these tests: the rest of the suite gets the CPU back
def shop_url() -> Iterator[str]:
    s = settings.load()
    started_here = not control.Supervisor(s).running()
    lifecycle.up(s)
    yield s.url
    if started_here:
        lifecycle.down(s)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        _unavailable(f"{CHROMIUM} is not installed")
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except Error as exc:
        _unavailable(f"Chromium did not start: {exc.message.splitlines()[0]}")
    yield browser
    browser.close()


class Steps:
    """Names each step of a journey; keeps a screenshot per step when SCREENSHOTS=1."""

    def __init__(self, page: Page, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.count = 0
        self.enabled = os.environ.get("SCREENSHOTS", "") not in ("", "0")

    def shot(self, name: str) -> Path | None:
        self.count += 1
        if not self.enabled:
            return None
        return self.save(f"{self.count:02d}-{name}")

    def save(self, name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def page(browser: Browser, shop_url: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(base_url=shop_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.fixture
def steps(page: Page, request: pytest.FixtureRequest) -> Iterator[Steps]:
    folder = SHOTS / re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    recorder = Steps(page, folder)
    yield recorder
    report: Any = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        path = recorder.save("failure")
        print(f"screenshot of the failure: {path}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
