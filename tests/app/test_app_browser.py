"""A real browser on the running app: `energy-platform app` serves it against the local warehouse, headless Chromium
(Debian's /usr/bin/chromium driven by playwright) opens every page, waits for the script to finish, finds no error
element and keeps a screenshot under test-artifacts/app/.

By default the warehouse is a local warehouse process (fakesnow server on a DuckDB folder, started with the
warehouse engineer's control code) seeded with a year of the reporting views from reporting_seed. Set ENERGY_APP_URL
to point the test at an app that already runs against the real loaded warehouse (e.g. after `energy-platform demo`).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from energy_app.tabs import demand, freshness, load_factor, load_shapes, overview, reliability

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "app"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# Page label -> the introduction only that page shows, whatever the data.
PAGES = {
    "Overview": overview.INTRO,
    "Demand": demand.INTRO,
    "Load shapes": load_shapes.INTRO,
    "Load factor": load_factor.INTRO,
    "Outages & reliability": reliability.INTRO,
    "Data freshness & quality": freshness.INTRO,
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the app did not answer on {url} within {timeout_s:.0f} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def app_base_url(request):
    """The base URL of the running app: ENERGY_APP_URL if set, else the app served on the seeded local warehouse."""
    if os.environ.get("ENERGY_APP_URL"):
        yield os.environ["ENERGY_APP_URL"].rstrip("/")
        return
    settings = request.getfixturevalue("seeded_local_warehouse")  # started only when no URL is given
    app_port = _free_port()
    log = settings.state_dir / "app.log"
    env = {**os.environ, "ENERGY_WAREHOUSE_DIR": str(settings.state_dir), "ENERGY_WAREHOUSE_PORT": str(settings.port)}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "local_platform.cli", "app", "--port", str(app_port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{app_port}"
    try:
        _wait_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser_page(app_base_url):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} missing: install Debian's chromium (make system-deps)"
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 2300})
        page.goto(app_base_url, wait_until="domcontentloaded")
        yield page
        browser.close()


def _wait_until_done(page, marker: str) -> None:
    """The page's own text is on screen, the script is no longer running and no chart is still being drawn."""
    page.get_by_text(marker).first.wait_for(timeout=120_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]')]"
        ".every(chart => chart.querySelector('canvas, svg'))",
        timeout=60_000,
    )
    page.wait_for_timeout(800)  # let the last layout settle before the screenshot


@pytest.mark.parametrize("label", list(PAGES))
def test_page_renders_in_chromium_without_errors(browser_page, label):
    page = browser_page
    page.get_by_test_id("stRadio").get_by_text(label, exact=True).click()
    _wait_until_done(page, PAGES[label])
    errors = page.query_selector_all('[data-testid="stException"], [data-testid="stAlertContentError"]')
    assert not errors, [e.inner_text()[:500] for e in errors]
    assert page.get_by_text("Energy demand & reliability").first.is_visible()
    screenshot = ARTIFACTS / f"{re.sub(r'[^a-z]+', '_', label.lower()).strip('_')}.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 20_000
    if label != "Overview":
        # a chart, or the message that says why there is none (e.g. no outage data for the selected regions)
        shown = page.query_selector_all('[data-testid="stVegaLiteChart"], [data-testid="stAlertContentInfo"]')
        assert shown, "neither a chart nor a message"
