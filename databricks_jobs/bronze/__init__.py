"""Bronze layer: raw rows as they came, with lineage, idempotent by file content hash."""
