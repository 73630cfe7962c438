"""Source definitions: the bundled YAML files load, and a bad definition fails naming the file and the field."""

from __future__ import annotations

import pytest

from databricks_jobs.sources import SourceDefinitionError, load_source_definitions, parse_definition
from databricks_jobs.sources.aliases import find_column

MINIMAL = {
    "source_id": "x_load",
    "dataset": "demand",
    "files": "x/*.csv",
    "timestamp": {"column": "t", "format": "yyyy-MM-dd HH:mm:ss"},
    "region": {"from": "fixed", "value": "COAST"},
    "fields": {"demand_mw": {"column": "load", "unit": "kW"}},
}


def test_bundled_definitions_describe_the_samples():
    definitions = load_source_definitions()
    ercot = definitions["ercot_native_load"]
    assert (ercot.shape, ercot.timestamp.time_zone, ercot.timestamp.convention) == (
        "wide",
        "America/Chicago",
        "hour_ending",
    )
    assert ercot.timestamp.allow_24_00 and ercot.timestamp.dst_repeat_marker == " DST"
    for source_id in ("eia930_cleaned", "eia930_original"):
        assert definitions[source_id].timestamp.time_zone == "UTC"
        assert definitions[source_id].timestamp.convention == "hour_ending"
        assert "MISSING" in definitions[source_id].null_tokens
    assert definitions["eia930_cleaned"].field("reported_demand_mw").required is False
    noaa = definitions["noaa_isd_temperature"]
    assert noaa.timestamp.convention == "hour_beginning"
    assert find_column(["timestamp", "austin_temp_c"], noaa.field("temperature_c").columns) == "austin_temp_c"
    assert find_column(["timestamp", "temp_c"], noaa.field("temperature_c").columns) == "temp_c"


def test_a_fixed_offset_is_a_time_zone():
    for written in ("UTC-05:00", "-05:00"):
        definition = parse_definition({**MINIMAL, "timestamp": {"column": "t", "format": "x", "time_zone": written}})
        assert definition.timestamp.time_zone == "-05:00"


def test_unit_is_converted_to_the_canonical_unit_of_the_field_name():
    definition = parse_definition(MINIMAL, "x.yml")
    assert definition.field("demand_mw").canonical_unit == "MW"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dataset": "gas"}, "x.yml: field 'dataset': 'gas' is not one of"),
        ({"source_id": "Bad-Id"}, "x.yml: field 'source_id'"),
        ({"timestamp": {"column": "t"}}, "x.yml: field 'timestamp.format': is required"),
        (
            {"timestamp": {"column": "t", "format": "x", "time_zone": "Mars/Olympus"}},
            "'Mars/Olympus' is neither an IANA time zone nor a fixed offset like -05:00",
        ),
        (
            {"timestamp": {"column": "t", "format": "x", "dst_repeat": "file_order"}},
            "field 'timestamp.dst_repeat': UTC stamps never repeat",
        ),
        ({"timestamp": {"column": "t", "format": "x", "valid_from": "soon"}}, "field 'timestamp.valid_from': 'soon'"),
        ({"fields": {"demand_mw": {"column": "l", "flags": {"s": "maybe"}}}}, "field 'fields.demand_mw.flags'"),
        ({"sub_hourly": "mean"}, "field 'sub_hourly': folds observations into hours for weather sources only"),
        ({"filter": {"column": "REPORT_TYPE"}}, "field 'filter': needs column"),
        ({"region": {"from": "file_name", "pattern": "no-group"}}, "field 'region.pattern'"),
        ({"fields": {"demand_mw": {"column": "load", "unit": "furlongs"}}}, "field 'fields.demand_mw.unit'"),
        ({"shape": "wide"}, "field 'region.from': a wide file takes its regions from the header"),
    ],
)
def test_bad_definition_names_file_and_field(change, message):
    with pytest.raises(SourceDefinitionError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse_definition({**MINIMAL, **change}, "x.yml")


def test_duplicate_source_id_across_files_is_an_error(tmp_path):
    text = (
        "source_id: a_load\ndataset: demand\nfiles: a/*.csv\ntimestamp: {column: t, format: yyyy}\n"
        "region: {from: fixed, value: COAST}\nfields: {demand_mw: load}\n"
    )
    (tmp_path / "one.yml").write_text(text)
    (tmp_path / "two.yml").write_text(text)
    with pytest.raises(SourceDefinitionError, match="two.yml: source_id 'a_load' is also defined in .*one.yml"):
        load_source_definitions(tmp_path)
