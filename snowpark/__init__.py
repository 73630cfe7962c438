"""Snowpark Python code deployed to Snowflake: the `energy_snowpark` package of procedure and UDF handlers."""
