"""Reading export batches back as a loader would apply them: a batch's rows and deleted keys per table, applying
an incremental batch on top of a state, and a canonical order for comparing frames."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd


def batch_frames(export_root: Path, batch_id: str, contract) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows, deleted keys) of one table in a batch, as pandas frames (empty ones with the right columns)."""
    manifest = json.loads((export_root / batch_id / "_manifest.json").read_text())
    entry = next(t for t in manifest["tables"] if t["name"] == contract.name)

    def read(files: list[dict], columns: list[str]) -> pd.DataFrame:
        frames = [pd.read_parquet(export_root / batch_id / f["path"]) for f in files]
        frames = [f for f in frames if len(f)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)

    return read(entry["files"], contract.column_names), read(entry["deleted_keys"]["files"], list(contract.primary_key))


def applied(state: pd.DataFrame, rows: pd.DataFrame, deleted: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """What a loader does with an incremental batch: drop upserted and deleted keys, then add the rows."""
    parts = [f[key] for f in (rows, deleted) if len(f)]
    gone = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=key)
    if len(gone) and len(state):
        marker = state[key].merge(gone.drop_duplicates(), on=key, how="left", indicator=True)["_merge"]
        state = state[(marker == "left_only").to_numpy()]
    frames = [f for f in (state, rows) if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else state


def canonical(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    frame = frame.copy()
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column].astype("datetime64[us]")
    return frame.sort_values(key).reset_index(drop=True)
