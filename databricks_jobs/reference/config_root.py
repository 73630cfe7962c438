"""The configuration location: source definitions and reference data a user adds without rebuilding the wheel.

Layout of a config root (a folder, or a Unity Catalog Volume path such as /Volumes/<catalog>/<schema>/config):

    sources/*.yml          source definitions; one with a packaged source_id replaces the packaged definition
    regions.csv            region rows (same columns as reference/regions.csv); a row with a packaged region_code
                           replaces the packaged row
    customers_served.csv   (region_code, year) rows; a row for a packaged key replaces the packaged count

The packaged files are the defaults and the examples. The root travels as a parameter (LakeSettings.config_root,
from `--config-root`); ENERGY_CONFIG_ROOT is read once, where the settings are made (LakeSettings.from_env), so two
configurations in one process never see each other's definitions or reference data.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

CONFIG_ROOT_ENV = "ENERGY_CONFIG_ROOT"

# A reference file (regions, customers served) holds tens to thousands of rows of ~100 bytes; a larger one is refused
# before it is read.
MAX_REFERENCE_BYTES = 4 << 20


def resolve_config_root(value: str | Path | None) -> Path | None:
    """The config root `value` names as a folder, or None (packaged definitions and reference data only)."""
    text = str(value or "").strip()
    if not text:
        return None
    if "://" in text:
        raise ValueError(f"config root {text}: a config root is a folder or a /Volumes/... path, not a URI")
    root = Path(text.removeprefix("file:"))
    if not root.is_dir():
        raise ValueError(f"config root {text}: folder does not exist")
    return root


def config_file(config_root: str | Path | None, name: str) -> Path | None:
    """`name` under the config root when there is one and that file exists."""
    root = resolve_config_root(config_root)
    candidate = root / name if root is not None else None
    return candidate if candidate is not None and candidate.exists() else None


def file_key(path: Path) -> tuple[str, int]:
    """A cache key that changes when the file does."""
    return str(path), path.stat().st_mtime_ns


def read_reference_rows(path: Path | str) -> list[dict[str, str]]:
    """The rows of a reference CSV file (regions, customers served) under its header. Raises naming the file when it is
    larger than MAX_REFERENCE_BYTES (nothing past that is read, however the file grows meanwhile), is not UTF-8 text,
    or is not CSV (naming the line, e.g. a field over the csv module's limit)."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_REFERENCE_BYTES + 1)
        if len(data) > MAX_REFERENCE_BYTES:
            size = os.fstat(handle.fileno()).st_size
            raise ValueError(f"{path}: {size:,} bytes; a reference file holds at most {MAX_REFERENCE_BYTES:,}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text (byte {error.start:,} of the file)") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return list(reader)
    except csv.Error as error:
        raise ValueError(f"{path}: line {reader.reader.line_num}: not CSV: {error}") from None
