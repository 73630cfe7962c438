-- Run as SECURITYADMIN (MANAGE GRANTS: future grants in a schema need it even when the schema's owner could grant
-- on existing objects). ENERGY_ANALYST reaches the REPORTING views and functions and the app, nothing else: no
-- CURATED schema, stage, table or procedure. Variables: database.
GRANT USAGE ON DATABASE <% database %> TO ROLE <% analyst_role %>;
GRANT USAGE ON SCHEMA <% database %>.REPORTING TO ROLE <% analyst_role %>;
GRANT USAGE ON SCHEMA <% database %>.APP TO ROLE <% analyst_role %>;
GRANT SELECT ON ALL VIEWS IN SCHEMA <% database %>.REPORTING TO ROLE <% analyst_role %>;
GRANT SELECT ON FUTURE VIEWS IN SCHEMA <% database %>.REPORTING TO ROLE <% analyst_role %>;
GRANT USAGE ON ALL FUNCTIONS IN SCHEMA <% database %>.REPORTING TO ROLE <% analyst_role %>;
GRANT USAGE ON FUTURE FUNCTIONS IN SCHEMA <% database %>.REPORTING TO ROLE <% analyst_role %>;
GRANT USAGE ON ALL STREAMLITS IN SCHEMA <% database %>.APP TO ROLE <% analyst_role %>;
GRANT USAGE ON FUTURE STREAMLITS IN SCHEMA <% database %>.APP TO ROLE <% analyst_role %>;
