"""The contract's Spark type names as Snowflake types (the CURATED DDL and the warehouse upgrade use them)."""

# Spark type name (tables.py) -> Snowflake type. Timestamps are NTZ: *_utc hold UTC and *_local local wall-clock,
# exactly as the export writes them, so no session time zone can shift them.
SNOWFLAKE_TYPES = {
    "string": "VARCHAR",
    "double": "FLOAT",
    "int": "NUMBER(10, 0)",
    "bigint": "NUMBER(19, 0)",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP_NTZ",
    "timestamp_ntz": "TIMESTAMP_NTZ",
}
