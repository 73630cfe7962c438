"""The app in headless Chromium, served by `energy-platform app` against the local warehouse that the whole flow
loaded from the real samples (ERCOT, EIA-930, NOAA, OE-417): every page renders without an error element, with a
chart or a message saying why there is none, and a screenshot under test-artifacts/app-real-samples/.

The page checks are the app tests' own (tests/app/test_app_browser.py), pointed at this warehouse instead of the seeded
one, so there is one definition of what "a page renders" means.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "streamlit_in_snowflake"))
_spec = importlib.util.spec_from_file_location(
    "app_browser_checks", REPO_ROOT / "tests" / "app" / "test_app_browser.py"
)
app_browser_checks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(app_browser_checks)
app_browser_checks.ARTIFACTS = REPO_ROOT / "test-artifacts" / "app-real-samples"

pytestmark = [pytest.mark.e2e, pytest.mark.spark, pytest.mark.browser]

app_base_url = app_browser_checks.app_base_url
browser_page = app_browser_checks.browser_page
test_page_renders_in_chromium_without_errors = app_browser_checks.test_page_renders_in_chromium_without_errors


@pytest.fixture(scope="module")
def seeded_local_warehouse(folder_flow):
    """The app fixture's warehouse: here the one loaded from the real samples by the whole flow."""
    return folder_flow["warehouse"]
