"""Bronze's one read of a raw CSV file: content hash plus the text checks that keep a hostile file out of Spark (a line
over the cap, a NUL byte, a .gz that is no gzip or expands without end). No Spark: bounded time and memory asserted
in-process."""

from __future__ import annotations

import gzip
import hashlib
import random
import re
import time
import tracemalloc
import zlib

import pytest

from databricks_jobs.bronze.raw_files import RawFile, TextChecks, scan_text_file

CAP = 1 << 20


def raw(path) -> RawFile:
    return RawFile(str(path), path.name, path.stat().st_size)


def first_long_line(data: bytes, cap: int) -> int | None:
    """Independent: the 1-based number of the first line (LF, CR or CRLF breaks) longer than cap."""
    for number, line in enumerate(re.split(rb"\r\n|\r|\n", data), start=1):
        if len(line) > cap:
            return number
    return None


def test_long_line_found_at_its_line_whatever_the_chunking():
    rng = random.Random(7)
    for _ in range(400):
        cap = rng.randint(1, 12)
        data = bytes(rng.choice(b"ab\r\n") for _ in range(rng.randint(0, 60)))
        checks = TextChecks("f.csv", cap)
        position = 0
        while position < len(data):
            step = rng.randint(1, 9)
            checks.feed(data[position : position + step])
            position += step
        expected = first_long_line(data, cap)
        if expected is None:
            assert checks.problem is None, (data, cap)
        else:
            assert checks.problem is not None and checks.problem.startswith(f"f.csv: line {expected:,} is"), (
                data,
                cap,
                checks.problem,
            )


def test_a_2mb_line_is_refused_naming_its_line_in_well_under_a_second(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\r\n1,2\r\n" + b"9" * 2_000_000 + b"\n3,4\n")
    started = time.monotonic()
    scan = scan_text_file(raw(path), CAP)
    assert time.monotonic() - started < 2
    assert scan.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert scan.problem == (
        "big.csv: line 3 is longer than 1,048,576 bytes, the source's limit (csv.max_line_bytes); "
        "split the line or raise the limit"
    )


def test_a_1mb_line_and_100000_fields_pass_the_default_cap(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_bytes(b"a,b\n" + b"9" * 1_000_000 + b"\n" + b"1," * 100_000 + b"\n")
    scan = scan_text_file(raw(path), CAP)
    assert scan.problem is None and scan.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_many_short_lines_cost_one_pass(tmp_path):
    path = tmp_path / "many.csv"
    path.write_bytes(b"01/01/2021 01:00,100\n" * 1_000_000)  # 21 MB, three read chunks
    started = time.monotonic()
    assert scan_text_file(raw(path), CAP).problem is None
    assert time.monotonic() - started < 10  # ~0.1 s alone; generous for a loaded machine


def test_a_nul_byte_is_refused_with_its_offset_and_line(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"a,b\n1,2\n3,\x004\n")
    assert scan_text_file(raw(path), CAP).problem == "nul.csv: binary content, not text (NUL byte at offset 10, line 3)"


def test_a_gzip_bomb_without_line_breaks_stops_after_the_cap(tmp_path):
    path = tmp_path / "bomb.csv.gz"
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"9" * (1 << 20)
    with path.open("wb") as handle:
        for _ in range(256):  # 256 MiB of one line, a few hundred KB on disk
            handle.write(packer.compress(block))
        handle.write(packer.flush())
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    started = time.monotonic()
    scan = scan_text_file(raw(path), CAP)
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert scan.problem.startswith("bomb.csv.gz: line 1 is longer than 1,048,576 bytes")
    assert elapsed < 10 and peak < 64 << 20, (elapsed, peak)


def test_gzip_members_truncation_and_non_gzip(tmp_path):
    two = tmp_path / "two.csv.gz"
    two.write_bytes(gzip.compress(b"a,b\n1,2\n") + gzip.compress(b"3," + b"9" * 40 + b"\n"))
    assert scan_text_file(raw(two), 1000).problem is None
    assert scan_text_file(raw(two), 20).problem.startswith("two.csv.gz: line 3 is longer than 20 bytes")
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(gzip.compress(b"a,b\n" + bytes(random.Random(1).randbytes(50_000)).hex().encode())[:-30])
    assert scan_text_file(raw(cut), CAP).problem == "cut.csv.gz: truncated gzip file (its compressed stream ends early)"
    plain = tmp_path / "plain.csv.gz"
    plain.write_bytes(b"a,b\n1,2\n")
    assert scan_text_file(raw(plain), CAP).problem.startswith("plain.csv.gz: not a readable gzip file")
    misnamed = tmp_path / "misnamed.csv"
    misnamed.write_bytes(gzip.compress(b"a,b\n1,2\n"))
    assert scan_text_file(raw(misnamed), CAP).problem == (
        "misnamed.csv: gzip-compressed content in a file not named *.gz; rename it"
    )


@pytest.mark.parametrize("breaks", [b"\n", b"\r\n", b"\r"])
def test_line_numbers_follow_spark_line_breaks(tmp_path, breaks):
    path = tmp_path / "f.csv"
    path.write_bytes(breaks.join([b"a,b", b"1,2", b"3,4", b"x" * 30, b"5,6"]))
    assert scan_text_file(raw(path), 10).problem.startswith("f.csv: line 4 is longer than 10 bytes")


def test_the_scan_keeps_the_decompressed_head_the_header_probe_reads(tmp_path):
    """The header probe reads the scan's head (no second read of the file): the first 64 KiB as Spark reads them."""
    rng = random.Random(3)
    text = b"".join(
        b"%d,%s\n" % (i, bytes(rng.choice(b"abcdef") for _ in range(rng.randint(0, 40)))) for i in range(9000)
    )
    plain, packed = tmp_path / "p.csv", tmp_path / "p.csv.gz"
    plain.write_bytes(text)
    packed.write_bytes(gzip.compress(text[:50_000]) + gzip.compress(text[50_000:]))  # two members
    assert len(text) > 3 * 65_536
    for path in (plain, packed):
        scan = scan_text_file(raw(path), CAP)
        assert (scan.problem, scan.head) == (None, text[:65_536])
        assert scan.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
