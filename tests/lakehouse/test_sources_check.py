"""Config root and `sources check`: definitions and reference data from a config folder extend or replace the
packaged ones, conflicts name both files, and `sources check` shows what Bronze and Silver would do with a sample."""

from __future__ import annotations

import pytest

from databricks_jobs.reference.customers_served import load_customers_served
from databricks_jobs.reference.regions import REGIONS_CSV, load_regions, resolve_region
from databricks_jobs.settings import LakeSettings
from databricks_jobs.sources import SourceDefinitionError, load_source_definitions
from databricks_jobs.storage import S3Access
from tests.lakehouse import onboarding_config as peach


@pytest.fixture
def config_root(tmp_path):
    return peach.write_config(tmp_path / "config")


def test_config_root_extends_the_packaged_sets(config_root):
    definitions = load_source_definitions(config_root=config_root)
    assert {"peach_feeder_load", "peach_outages", "ercot_native_load"} <= set(definitions)
    assert definitions["peach_outages"].definition_path == str(config_root / "sources" / "peach_outages.yml")
    regions = load_regions(config_root)
    assert resolve_region("Peach Metro", regions) == resolve_region("PEACH ATLANTA", regions) == peach.REGION
    assert resolve_region("COAST", regions) == "COAST"  # packaged regions still there
    assert load_customers_served(config_root)[(peach.REGION, 2024)] == peach.CUSTOMERS_SERVED
    assert load_customers_served(config_root)[("SYN_NORTH", 2015)] == 184500


def test_two_configurations_in_one_process_do_not_interfere(config_root, tmp_path, monkeypatch):
    """Each configuration travels with its settings: loading one set never changes what another caller sees, and
    the environment variable is read where settings are made, not by the loaders."""
    other = tmp_path / "other"
    (other / "sources").mkdir(parents=True)
    (other / "customers_served.csv").write_text(
        "region_code,year,customers_served,provenance\nSYN_NORTH,2015,7,other utility's count (test)\n"
    )
    monkeypatch.setenv("ENERGY_CONFIG_ROOT", str(other))  # a stray variable must not reach the loaders
    peach_settings = LakeSettings(config_root=str(config_root))
    other_settings = LakeSettings(config_root=str(other))
    assert peach.REGION in {r.region_code for r in load_regions(peach_settings.config_root)}
    assert load_customers_served(other_settings.config_root)[("SYN_NORTH", 2015)] == 7
    # Interleaved: the first configuration's view is unchanged after the second was loaded, and the reverse.
    assert load_customers_served(peach_settings.config_root)[("SYN_NORTH", 2015)] == 184500
    assert peach.REGION not in {r.region_code for r in load_regions(other_settings.config_root)}
    assert "peach_outages" in load_source_definitions(config_root=peach_settings.config_root)
    assert "peach_outages" not in load_source_definitions(config_root=other_settings.config_root)
    # No configuration given: the packaged sets only, whatever the environment says.
    assert load_customers_served()[("SYN_NORTH", 2015)] == 184500
    assert "peach_outages" not in load_source_definitions()
    # The entry point reads the variable once, into the settings; an explicit --config-root wins over it.
    assert LakeSettings.from_env().config_root == str(other)
    assert LakeSettings.from_env(config_root=str(config_root)).config_root == str(config_root)


def test_config_rows_replace_packaged_ones(config_root):
    ercot = config_root / "sources" / "ercot_native_load.yml"
    ercot.write_text(peach.LOAD_YAML.replace("peach_feeder_load", "ercot_native_load"))
    assert load_source_definitions(config_root=config_root)["ercot_native_load"].definition_path == str(ercot)
    with (config_root / "customers_served.csv").open("a") as handle:
        handle.write("SYN_NORTH,2015,1,corrected count (test)\n")
    assert load_customers_served(config_root)[("SYN_NORTH", 2015)] == 1
    with (config_root / "regions.csv").open("a") as handle:
        handle.write("COAST,Coast renamed,ERCOT,false,America/Chicago,HOUSTON,Houston,coast|ercot coast\n")
    coast = next(r for r in load_regions(config_root) if r.region_code == "COAST")
    assert coast.region_name == "Coast renamed" and coast.defined_in == str(config_root / "regions.csv")


def test_conflicts_name_both_files(config_root):
    (config_root / "sources" / "copy.yml").write_text(peach.OUTAGES_YAML)
    with pytest.raises(SourceDefinitionError) as error:
        load_source_definitions(config_root=config_root)
    assert str(error.value) == (
        f"{config_root / 'sources' / 'peach_outages.yml'}: source_id 'peach_outages' is also defined in "
        f"{config_root / 'sources' / 'copy.yml'}"
    )
    (config_root / "sources" / "copy.yml").unlink()
    with (config_root / "regions.csv").open("a") as handle:
        handle.write("PEACH_N,Peach north,,false,America/New_York,,,ercot coast\n")  # a packaged COAST alias
    with pytest.raises(ValueError, match="names both") as alias_error:
        load_regions(config_root)
    assert str(alias_error.value) == (
        f"alias 'ercot coast' names both COAST ({REGIONS_CSV}) and PEACH_N ({config_root / 'regions.csv'})"
    )


@pytest.mark.spark
def test_sources_check_shows_header_rows_and_quarantines(spark, config_root, tmp_path):
    from databricks_jobs.source_check import check_file, sample_files
    from databricks_jobs.sources import load_definition_file

    raw = peach.write_raw(tmp_path / "raw")
    definition = load_definition_file(config_root / "sources" / "peach_feeder_load.yml")
    (file,) = sample_files(definition, str(raw), [], s3=S3Access())
    result = check_file(spark, definition, file, load_regions(config_root), first_rows=2)
    text = "\n".join(result.lines)
    assert not result.refused and result.path == "peach/load_2024_01.csv"
    assert "timestamp part 1             -> 'Interval Ending'" in text
    assert "field demand_mw              -> 'Load kW'" in text
    assert "region                       -> 'Service Territory'" in text
    # Hour ending 01:00 EST starts at 00:00 EST = 05:00 UTC; 1500 kW = 1.5 MW. Only two rows asked for.
    assert "  2  2024-01-01 05:00:00 UTC  2024-01-01 00:00:00 America/New_York  PEACH_ATL  demand_mw = 1.5 MW" in text
    assert "  3  2024-01-01 06:00:00 UTC  2024-01-01 01:00:00 America/New_York  PEACH_ATL  demand_mw = 1.4 MW" in text
    assert "2024-01-01 07:00:00 UTC" not in text
    quarantined = [line for line in result.lines if line.startswith("  line ")]
    assert [line.split(":")[0:2] for line in quarantined] == [
        [f"  line {n}", f" {reason}"] for n, reason in peach.LOAD_QUARANTINED
    ]
    assert "region (from column) 'Atlantis' is not a known region" in quarantined[0]
    assert result.counts == {"kept": 3, "quarantined": 2, "exact_duplicate": 0, "rows_in": 5}


@pytest.mark.spark
def test_sources_check_names_a_refused_file(spark, config_root, tmp_path):
    from databricks_jobs.source_check import check_file, sample_files
    from databricks_jobs.sources import load_definition_file

    (tmp_path / "raw" / "peach").mkdir(parents=True)
    (tmp_path / "raw" / "peach" / "load_bad.csv").write_text("When,Where,kW\n2024-01-01 01:00,Peach Metro,1\n")
    definition = load_definition_file(config_root / "sources" / "peach_feeder_load.yml")
    (file,) = sample_files(definition, str(tmp_path / "raw"), ["peach/load_bad.csv"], s3=S3Access())
    result = check_file(spark, definition, file, load_regions(config_root))
    assert result.refused
    assert result.lines[0].startswith("  file refused: peach/load_bad.csv: wrong header: no column for timestamp")


def test_the_reference_fingerprint_holds_the_regions_values_not_where_they_were_read(config_root, tmp_path):
    """gold/fingerprint.reference_data decides whether Gold rebuilds on a reference change: the same regions read from
    another folder (a package installed elsewhere), or in another row order, change nothing; a time zone does."""
    import shutil

    from databricks_jobs.gold.fingerprint import reference_data

    with (config_root / "regions.csv").open("a") as handle:  # a second row, so the rows can be reordered
        handle.write("PEACH_SOUTH,Peach Power south,,false,America/New_York,,,peach south\n")
    moved = tmp_path / "moved"
    shutil.copytree(config_root, moved)
    assert reference_data(str(moved)) == reference_data(str(config_root))

    header, *rows = (moved / "regions.csv").read_text().splitlines()
    (moved / "regions.csv").write_text("\n".join([header, *reversed(rows)]) + "\n")
    assert reference_data(str(moved)) == reference_data(str(config_root))

    (moved / "regions.csv").write_text(
        (moved / "regions.csv").read_text().replace("America/New_York", "America/Detroit")
    )
    changed, before = reference_data(str(moved)), reference_data(str(config_root))
    assert changed["regions"] != before["regions"] and changed["customers_served"] == before["customers_served"]
