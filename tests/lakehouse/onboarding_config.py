"""A new utility onboarded with files in a config folder only: its load and outage definitions, its region and its
customers served. Used by the `sources check` test and the run from the built wheel.

Figures by hand: the load file is hour ending, local Eastern time (EST = UTC-5 in January), kW; the outage file
is an OMS export with local ISO times and offsets.
"""

from __future__ import annotations

from pathlib import Path

REGION = "PEACH_ATL"
CUSTOMERS_SERVED = 50_000

LOAD_YAML = """
source_id: peach_feeder_load
dataset: demand
description: Peach Power feeder load, kW, local Eastern time, hour ending.
files: peach/load_*.csv
timestamp: {column: Interval Ending, format: yyyy-MM-dd HH:mm, time_zone: America/New_York, convention: hour_ending}
region: {from: column, column: [Service Territory]}
fields:
  demand_mw: {column: [Load kW], unit: kW, valid_range: [0, 5000000]}
"""

OUTAGES_YAML = """
source_id: peach_outages
dataset: outage_events
description: Peach Power OMS export.
files: peach/outages_*.csv
timestamp: {column: [[outage_start]], format: "yyyy-MM-dd'T'HH:mm:ssXXX", convention: instant}
region: {from: column, column: [territory]}
null_tokens: ["", Unknown]
fields:
  event_id: {column: [event_id], type: string}
  customers_affected: {column: [customers_out], type: string, required: false}
options:
  restoration: {column: [[restored_at]], format: "yyyy-MM-dd'T'HH:mm:ssXXX"}
"""

REGIONS_CSV = (
    "region_code,region_name,parent_region_code,is_aggregate,time_zone,weather_station_id,weather_station_name,aliases\n"
    f"{REGION},Peach Power Atlanta metro,,false,America/New_York,,,Peach Metro|peach atlanta\n"
)
CUSTOMERS_CSV = (
    "region_code,year,customers_served,provenance\n"
    f"{REGION},2024,{CUSTOMERS_SERVED},Peach Power 2024 annual report (test figure)\n"
)

LOAD_CSV = """Interval Ending,Service Territory,Load kW
2024-01-01 01:00,Peach Metro,1500
2024-01-01 02:00,Peach Metro,1400
2024-01-01 03:00,peach atlanta,1300.5
2024-01-01 04:00,Atlantis,1200
2024-01-01 05:00,Peach Metro,n/a
"""
# (line, expected reason) of the load rows the pipeline must quarantine
LOAD_QUARANTINED = [(5, "unknown_region"), (6, "non_numeric_value")]

OUTAGES_CSV = """event_id,territory,outage_start,restored_at,customers_out
P1,Peach Metro,2024-03-05T10:00:00-05:00,2024-03-05T12:00:00-05:00,1000
P2,Peach Metro,2024-07-04T18:30:00-04:00,2024-07-04T19:00:00-04:00,250
P3,Peach Metro,2024-07-05T08:00:00-04:00,2024-07-05T08:03:00-04:00,4000
"""
# Hand-computed 2024 indices: sustained P1 120 min x 1000, P2 30 min x 250; P3 is momentary (3 minutes).
SAIDI_2024 = (120 * 1000 + 30 * 250) / CUSTOMERS_SERVED  # 2.55 minutes
SAIFI_2024 = (1000 + 250) / CUSTOMERS_SERVED  # 0.025
MAIFI_2024 = 4000 / CUSTOMERS_SERVED  # 0.08


def write_config(root: Path) -> Path:
    (root / "sources").mkdir(parents=True)
    (root / "sources" / "peach_feeder_load.yml").write_text(LOAD_YAML)
    (root / "sources" / "peach_outages.yml").write_text(OUTAGES_YAML)
    (root / "regions.csv").write_text(REGIONS_CSV)
    (root / "customers_served.csv").write_text(CUSTOMERS_CSV)
    return root


def write_raw(root: Path) -> Path:
    (root / "peach").mkdir(parents=True)
    (root / "peach" / "load_2024_01.csv").write_text(LOAD_CSV)
    (root / "peach" / "outages_2024.csv").write_text(OUTAGES_CSV)
    return root
