-- Run as ENERGY_ADMIN. The load-factor UDAF (snowflake.yml has no entity type for aggregate functions, so it is created here).
-- Run after `snow snowpark deploy`, which uploads snowpark.zip to the code stage. Variables: database.
CREATE OR REPLACE AGGREGATE FUNCTION <% database %>.REPORTING.LOAD_FACTOR_OF_HOURLY(demand_mw FLOAT)
    RETURNS FLOAT
    LANGUAGE PYTHON
    RUNTIME_VERSION = '3.11'
    PACKAGES = ('snowflake-snowpark-python', 'pandas')
    IMPORTS = ('@<% database %>.CURATED.SNOWPARK_CODE/snowpark.zip')
    HANDLER = 'energy_snowpark.load_factor.LoadFactorAggregate'
    COMMENT = 'Load factor of a group of hourly demand values: energy / (peak x hours)';
