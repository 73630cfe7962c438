"""Handlers deployed to Snowflake. `snow snowpark build` zips the `snowpark/` folder, so this package sits at the
zip's root there (handler `energy_snowpark.load_export.main`) and under `snowpark.` locally; modules import each
other relatively so both work. Nothing here imports pyspark or the lakehouse package."""
