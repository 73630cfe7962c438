"""The pipeline's clock, and naive UTC datetimes to and from microseconds since the epoch."""

from __future__ import annotations

import datetime as dt

_EPOCH = dt.datetime(1970, 1, 1)


def utc_now() -> dt.datetime:
    """Now, as a naive UTC datetime to the second. It crosses into Spark as an instant only through utc_micros (or
    lake.rows_frame): PySpark reads a naive datetime as the driver's local time, not the session's UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def utc_micros(moment: dt.datetime) -> int:
    """A naive UTC datetime as microseconds since the epoch, whatever the process's time zone."""
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


def from_utc_micros(micros: int) -> dt.datetime:
    """Microseconds since the epoch as a naive UTC datetime (PySpark's collect gives local wall-clock time)."""
    return _EPOCH + dt.timedelta(microseconds=micros)
