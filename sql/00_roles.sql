-- Run as SECURITYADMIN (CREATE ROLE, MANAGE GRANTS). Roles come first: every later owner and grant names them.
-- ENERGY_ADMIN owns the database and everything that runs (stage, file formats, tables, procedures, functions, task,
-- views, Streamlit); ENERGY_ANALYST reads the REPORTING views, uses the functions and opens the app.
-- Variables: database, warehouse, admin_role, analyst_role.
CREATE ROLE IF NOT EXISTS <% admin_role %> COMMENT = 'Owns <% database %>; loads the Gold export and builds the views';
CREATE ROLE IF NOT EXISTS <% analyst_role %> COMMENT = 'Reads <% database %>.REPORTING and uses the Streamlit app';
GRANT ROLE <% analyst_role %> TO ROLE <% admin_role %>;
GRANT ROLE <% admin_role %> TO ROLE SYSADMIN;

GRANT USAGE, OPERATE ON WAREHOUSE <% warehouse %> TO ROLE <% admin_role %>;
GRANT USAGE ON WAREHOUSE <% warehouse %> TO ROLE <% analyst_role %>;
-- The task runs as its owner, ENERGY_ADMIN: ALTER TASK ... RESUME fails unless the owner holds EXECUTE TASK.
GRANT EXECUTE TASK ON ACCOUNT TO ROLE <% admin_role %>;
