"""Gold -> Parquet + manifest export, and its verification."""

from databricks_jobs.export.parquet_export import ExportVerificationError, export_gold, verify_export

__all__ = ["ExportVerificationError", "export_gold", "verify_export"]
