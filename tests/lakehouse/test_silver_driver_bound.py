"""Which Silver passes may take their candidates onto the driver (silver.build.fits_on_driver): the bound that keeps a
hostile file's rows off the driver. Pure arithmetic on the pending-file list, no Spark."""

from __future__ import annotations

from databricks_jobs.silver.build import DRIVER_CANDIDATES, DRIVER_RAW_BYTES, PendingFile, fits_on_driver


def pending(name: str, rows: int, size_bytes: int | None) -> PendingFile:
    return PendingFile(name, "hash", False, ("a", "b"), rows, size_bytes)


def test_few_rows_and_bytes_fit():
    assert fits_on_driver([pending("x/a.csv", 4_000, 1_000_000), pending("x/b.xls", 6_000, 3_000_000)])
    assert fits_on_driver([pending("x/a.csv", DRIVER_CANDIDATES, DRIVER_RAW_BYTES)])  # both limits are inclusive


def test_one_row_or_one_byte_over_either_limit_does_not():
    half = DRIVER_CANDIDATES // 2
    assert not fits_on_driver([pending("x/a.csv", half, 10), pending("x/b.csv", DRIVER_CANDIDATES - half + 1, 10)])
    assert not fits_on_driver(
        [pending("x/a.csv", 10, DRIVER_RAW_BYTES // 2), pending("x/b.csv", 10, 1 + DRIVER_RAW_BYTES // 2)]
    )


def test_a_size_that_bounds_nothing_does_not_fit():
    """A gzipped file's listed size says nothing of its lines (a 1 MiB line each, 10,000 of them, from a few kB);
    a file version the log holds no size for is unknown."""
    assert not fits_on_driver([pending("x/a.csv.gz", 10, 2_000)])
    assert not fits_on_driver([pending("x/a.csv", 10, None)])
