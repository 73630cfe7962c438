"""The configuration location: source definitions and reference data a user adds without rebuilding the wheel.

Layout of a config root (a folder, or a Unity Catalog Volume path such as /Volumes/<catalog>/<schema>/config):

    sources/*.yml          source definitions; one with a packaged source_id replaces the packaged definition
    regions.csv            region rows (same columns as reference/regions.csv); a row with a packaged region_code
                           replaces the packaged row
    customers_served.csv   (region_code, year) rows; a row for a packaged key replaces the packaged count

The packaged files are the defaults and the examples. The root is `--config-root` or ENERGY_CONFIG_ROOT; a task sets
it once for its process (use_config_root), so every loader of definitions and reference data sees the same set.
"""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_ROOT_ENV = "ENERGY_CONFIG_ROOT"


def config_root() -> Path | None:
    """The active config root, or None (packaged definitions and reference data only)."""
    value = os.environ.get(CONFIG_ROOT_ENV, "").strip()
    if not value:
        return None
    root = Path(value.removeprefix("file:"))
    if "://" in value:
        raise ValueError(f"{CONFIG_ROOT_ENV}={value}: a config root is a folder or a /Volumes/... path, not a URI")
    if not root.is_dir():
        raise ValueError(f"{CONFIG_ROOT_ENV}={value}: config root folder does not exist")
    return root


def use_config_root(root: str | None) -> None:
    """Make `root` the config root of this process (None or '' leaves the current one)."""
    if root:
        os.environ[CONFIG_ROOT_ENV] = str(root)


def config_file(name: str) -> Path | None:
    """`name` under the active config root when that file exists."""
    root = config_root()
    candidate = root / name if root is not None else None
    return candidate if candidate is not None and candidate.exists() else None


def file_key(path: Path) -> tuple[str, int]:
    """A cache key that changes when the file does."""
    return str(path), path.stat().st_mtime_ns
