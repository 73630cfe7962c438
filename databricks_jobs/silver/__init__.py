"""Silver layer: typed, UTC-aligned, canonical regions, units normalised, de-duplicated; rejects quarantined."""
