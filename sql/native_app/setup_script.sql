-- Setup script of the native app (runs at install and upgrade).
-- Application roles: app_public (business users: the app and the functions), app_admin (binds references).
CREATE APPLICATION ROLE IF NOT EXISTS app_admin;
CREATE APPLICATION ROLE IF NOT EXISTS app_public;
GRANT APPLICATION ROLE app_public TO APPLICATION ROLE app_admin;

-- Stateless objects live in a versioned schema, replaced on every upgrade.
CREATE OR ALTER VERSIONED SCHEMA core;
GRANT USAGE ON SCHEMA core TO APPLICATION ROLE app_public;

CREATE OR REPLACE FUNCTION core.load_factor(avg_demand_mw FLOAT, peak_demand_mw FLOAT)
    RETURNS FLOAT
    LANGUAGE PYTHON
    RUNTIME_VERSION = '3.11'
    PACKAGES = ('pandas')
    IMPORTS = ('/python/energy_snowpark/load_factor.py')
    HANDLER = 'load_factor.load_factor';
GRANT USAGE ON FUNCTION core.load_factor(FLOAT, FLOAT) TO APPLICATION ROLE app_public;

CREATE OR REPLACE AGGREGATE FUNCTION core.load_factor_of_hourly(demand_mw FLOAT)
    RETURNS FLOAT
    LANGUAGE PYTHON
    RUNTIME_VERSION = '3.11'
    PACKAGES = ('pandas')
    IMPORTS = ('/python/energy_snowpark/load_factor.py')
    HANDLER = 'load_factor.LoadFactorAggregate';
GRANT USAGE ON FUNCTION core.load_factor_of_hourly(FLOAT) TO APPLICATION ROLE app_public;

CREATE OR REPLACE STREAMLIT core.energy_dashboard
    FROM '/streamlit'
    MAIN_FILE = '/streamlit_app.py';
GRANT USAGE ON STREAMLIT core.energy_dashboard TO APPLICATION ROLE app_public;

-- Reference callback (a versioned schema `config`, as Snowflake's native-app examples have it): the consumer binds
-- each reporting view declared in manifest.yml; the app reads them as reference('<name>').
CREATE OR ALTER VERSIONED SCHEMA config;
GRANT USAGE ON SCHEMA config TO APPLICATION ROLE app_admin;

CREATE OR REPLACE PROCEDURE config.register_reference(ref_name STRING, operation STRING, ref_or_alias STRING)
    RETURNS STRING
    LANGUAGE SQL
AS $$
BEGIN
    CASE (operation)
        WHEN 'ADD' THEN
            SELECT SYSTEM$SET_REFERENCE(:ref_name, :ref_or_alias);
        WHEN 'REMOVE' THEN
            SELECT SYSTEM$REMOVE_REFERENCE(:ref_name, :ref_or_alias);
        WHEN 'CLEAR' THEN
            SELECT SYSTEM$REMOVE_ALL_REFERENCES(:ref_name);
        ELSE
            RETURN 'unknown operation: ' || operation;
    END CASE;
    RETURN NULL;
END;
$$;
GRANT USAGE ON PROCEDURE config.register_reference(STRING, STRING, STRING) TO APPLICATION ROLE app_admin;
