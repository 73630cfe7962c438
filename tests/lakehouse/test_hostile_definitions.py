"""Hostile definitions and reference data: refused at load, naming file and field (or both rows), in bounded time and
memory. The bombs run in a child process with a time and memory limit (tests/lakehouse/bounded.py)."""

from __future__ import annotations

import textwrap
import time

import pytest

from databricks_jobs.reference.config_root import MAX_REFERENCE_BYTES
from databricks_jobs.reference.customers_served import load_customers_served
from databricks_jobs.reference.regions import MAX_REGIONS, REGIONS_CSV, load_regions
from databricks_jobs.silver.parsing import file_name_values
from databricks_jobs.sources import SourceDefinitionError, load_definition_file, parse_definition
from tests.lakehouse.bounded import run_bounded
from tests.lakehouse.test_sources import MINIMAL

VALID = """\
source_id: x_load
dataset: demand
files: x/*.csv
timestamp: {column: t, format: yyyy-MM-dd HH:mm:ss}
region: {from: fixed, value: COAST}
fields: {demand_mw: {column: load, unit: kW}}
"""
# Nine levels of ten aliases each: 10^9 strings once expanded, 700 bytes on disk.
ALIAS_BOMB = (
    VALID
    + 'lol0: &l0 ["lol"]\n'
    + "".join(f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 10))
    + "description: *l9\n"
)


def test_an_alias_bomb_is_refused_at_once_in_bounded_memory(tmp_path):
    path = tmp_path / "bomb.yml"
    path.write_text(ALIAS_BOMB)
    assert path.stat().st_size < 1000
    code = textwrap.dedent(f"""
        from pathlib import Path
        from databricks_jobs.sources import SourceDefinitionError, load_definition_file
        try:
            load_definition_file(Path({str(path)!r}))
        except SourceDefinitionError as error:
            print(error)
    """)
    run = run_bounded(code, seconds=60, memory_bytes=1 << 30)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == (
        f"{path}: line 8: YAML alias *l0 is not allowed in a source definition (write the value out)"
    )
    assert run.seconds < 30


def test_any_alias_is_refused_even_a_small_one(tmp_path):
    path = tmp_path / "merge.yml"
    path.write_text(VALID + "csv: &c {delimiter: ';'}\nxls: *c\n")
    with pytest.raises(SourceDefinitionError, match=r"merge\.yml: line 8: YAML alias \*c is not allowed"):
        load_definition_file(path)


def test_deep_nesting_and_huge_files_are_refused(tmp_path):
    deep = tmp_path / "deep.yml"
    deep.write_text(VALID + "description: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(SourceDefinitionError, match="deep.yml: not valid YAML: nested too deeply"):
        load_definition_file(deep)
    huge = tmp_path / "huge.yml"
    huge.write_text(VALID + "description: " + "x" * (2 << 20) + "\n")
    with pytest.raises(SourceDefinitionError, match=r"huge\.yml: 2,097,3\d\d bytes; a source definition holds at most"):
        load_definition_file(huge)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"description": {"a": 1}}, "field 'description': must be text, got dict"),
        ({"description": ["a", "b"]}, "field 'description': must be text, got list"),
        ({"files": 7}, "field 'files': must be text or a list, got int"),
        (
            {"files": ["x/*.csv", {"glob": "y"}]},
            "field 'files[1]': must be text or a whole number or a number, got dict",
        ),
        ({"fields": {"demand_mw": {"column": "l", "required": "false"}}}, "field 'fields.demand_mw.required': must be"),
        ({"xls": {"header_search_rows": "5"}}, "field 'xls.header_search_rows': must be a whole number, got str"),
        ({"csv": {"max_line_bytes": True}}, "field 'csv.max_line_bytes': must be a whole number, got bool"),
        ({"csv": {"max_line_bytes": 0}}, "field 'csv.max_line_bytes': 0 must be a positive whole number"),
        ({"descripton": "typo"}, "field 'descripton': is not a definition field"),
        (
            {"timestamp": {"column": "t", "format": "yyyy", "zone": "UTC"}},
            "field 'timestamp.zone': is not a definition",
        ),
        ({"region": {"from": "fixed", "value": "COAST", "map": {"a": ["b"]}}}, "field 'region.map.a': must be text"),
        ({"csv": {"delimiter": '"'}}, "field 'csv.delimiter': '\"' cannot separate fields"),
    ],
)
def test_each_field_has_its_type(change, message):
    with pytest.raises(SourceDefinitionError) as error:
        parse_definition({**MINIMAL, **change}, "x.yml")
    assert str(error.value).startswith(f"x.yml: {message}"), str(error.value)


@pytest.mark.parametrize(
    "glob", ["../outside/*.csv", "x/../../outside/*.csv", "/etc/*.csv", "s3://other-bucket/*.csv", "C:/data/*.csv"]
)
def test_a_glob_leaving_the_raw_root_is_a_definition_error(glob):
    with pytest.raises(SourceDefinitionError) as error:
        parse_definition({**MINIMAL, "files": ["x/*.csv", glob]}, "x.yml")
    assert str(error.value) == (
        f"x.yml: field 'files': {glob!r} leaves the raw root: a glob is relative to it, without '..'"
    )


CATASTROPHIC = "^(?P<value>(a+)+)$"  # exponential for a backtracking engine on 'aaaa…b'


def test_a_catastrophic_file_name_pattern_runs_in_linear_time():
    definition = parse_definition({**MINIMAL, "region": {"from": "file_name", "pattern": CATASTROPHIC}}, "x.yml")
    names = ["a" * 50_000 + "b", "a" * 30 + "b.csv", "aaa"]
    started = time.monotonic()
    values = file_name_values(definition.region.pattern, names)
    assert time.monotonic() - started < 2  # Python's re takes ~2^30 steps on the 31-character name alone
    assert values == {"aaa": "aaa"}


def test_file_name_values_are_read_once_per_file():
    pattern = r"_(?P<value>[A-Z]+)_\d{4}\.csv$"
    assert file_name_values(pattern, ["eia/x_ERCO_2021.csv", "eia/x_2021.csv", "eia/y_PJM_2022.csv"]) == {
        "eia/x_ERCO_2021.csv": "ERCO",
        "eia/y_PJM_2022.csv": "PJM",
    }


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (r"(?P<value>a)\1", "is not a regex RE2 runs in linear time"),
        (r"(?P<value>\w+)(?=\.csv)", "is not a regex RE2 runs in linear time"),
        ("(?P<value>" + "a" * 2000 + ")", "a pattern of 2,011 characters is longer than 1000"),
    ],
)
def test_patterns_a_linear_engine_cannot_run_are_refused(pattern, message):
    with pytest.raises(SourceDefinitionError, match="field 'region.pattern': ") as error:
        parse_definition({**MINIMAL, "region": {"from": "file_name", "pattern": pattern}}, "x.yml")
    assert message in str(error.value)


HEADER = (
    "region_code,region_name,parent_region_code,is_aggregate,time_zone,weather_station_id,weather_station_name,"
    "aliases\n"
)


def test_two_regions_claiming_one_station_are_refused_naming_both_rows(tmp_path):
    path = tmp_path / "regions.csv"  # a config root's regions.csv
    path.write_text(
        HEADER
        + "A_ONE,A one,,false,America/Chicago,KAAA,Alpha,\n"
        + "B_TWO,B two,,false,America/Chicago,,,\n"
        + "C_THREE,C three,,false,America/Chicago,kaaa ,Alpha again,\n"
    )
    with pytest.raises(ValueError) as error:
        load_regions(tmp_path)
    assert str(error.value) == (
        f"weather station 'kaaa ' is claimed by both A_ONE ({path}, line 2) and C_THREE ({path}, line 4)"
    )


def test_a_config_region_claiming_a_packaged_station_is_refused(tmp_path):
    packaged = next(r for r in load_regions() if r.weather_station_id)
    (tmp_path / "regions.csv").write_text(
        HEADER + f"NEW_ONE,New one,,false,America/Chicago,{packaged.weather_station_id},Same,\n"
    )
    with pytest.raises(ValueError) as error:
        load_regions(tmp_path)
    assert str(error.value) == (
        f"weather station {packaged.weather_station_id!r} is claimed by both {packaged.region_code} "
        f"({REGIONS_CSV}, line {packaged.line}) and NEW_ONE ({tmp_path / 'regions.csv'}, line 2)"
    )


def test_reference_files_too_long_or_too_large_are_refused_naming_them(tmp_path):
    """Every Gold query carries the regions as literal maps: more than MAX_REGIONS rows is refused, and a reference file
    over MAX_REFERENCE_BYTES is refused before it is read; a region listed twice is named among thousands."""
    regions = tmp_path / "regions.csv"
    rows = [f"R{i},Region {i},,false,America/Chicago,,,\n" for i in range(MAX_REGIONS + 1)]
    regions.write_text(HEADER + "".join(rows))
    assert regions.stat().st_size < MAX_REFERENCE_BYTES  # refused for its rows, not its bytes
    with pytest.raises(ValueError) as error:
        load_regions(tmp_path)
    assert str(error.value) == f"{regions}: 10,001 regions; at most 10,000 are allowed"

    regions.write_text(HEADER + "".join(rows[: MAX_REGIONS - 1]) + rows[1234])
    with pytest.raises(ValueError) as error:
        load_regions(tmp_path)
    assert str(error.value) == f"{regions}: region_code listed twice: ['R1234']"

    for name, load in (("regions.csv", load_regions), ("customers_served.csv", load_customers_served)):
        large = tmp_path / name
        large.write_text("x" * (MAX_REFERENCE_BYTES + 1))
        with pytest.raises(ValueError) as error:
            load(tmp_path)
        assert str(error.value) == f"{large}: 4,194,305 bytes; a reference file holds at most 4,194,304"

        # Within the bytes, still refused naming the file: not UTF-8, or one field past the csv module's limit.
        large.write_bytes(HEADER.encode() + b"R1,caf\xe9,,false,UTC,,,\n")
        with pytest.raises(ValueError) as error:
            load(tmp_path)
        assert str(error.value) == f"{large}: not UTF-8 text (byte {len(HEADER) + 6:,} of the file)"
        large.write_text(HEADER + "R1," + "y" * 200_000 + ",,false,UTC,,,\n")
        with pytest.raises(ValueError) as error:
            load(tmp_path)
        assert str(error.value) == f"{large}: line 2: not CSV: field larger than field limit (131072)"
