"""The local Snowflake stand-in: a fakesnow server on a DuckDB file on 127.0.0.1, with the project's UDFs."""
