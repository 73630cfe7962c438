-- Run as SECURITYADMIN (CREATE ROLE, MANAGE GRANTS). Roles come first: every later owner and grant names them.
-- ENERGY_ADMIN owns the database and everything that runs (stage, file formats, tables, procedures, functions, task,
-- views, Streamlit); ENERGY_ANALYST reads the REPORTING views, uses the functions and opens the app.
-- Variables: warehouse.
CREATE ROLE IF NOT EXISTS ENERGY_ADMIN COMMENT = 'Owns ENERGY; loads the Gold export and rebuilds the views';
CREATE ROLE IF NOT EXISTS ENERGY_ANALYST COMMENT = 'Reads ENERGY.REPORTING and uses the Streamlit app';
GRANT ROLE ENERGY_ANALYST TO ROLE ENERGY_ADMIN;
GRANT ROLE ENERGY_ADMIN TO ROLE SYSADMIN;

GRANT USAGE, OPERATE ON WAREHOUSE <% warehouse %> TO ROLE ENERGY_ADMIN;
GRANT USAGE ON WAREHOUSE <% warehouse %> TO ROLE ENERGY_ANALYST;
-- The task runs as its owner, ENERGY_ADMIN: ALTER TASK ... RESUME fails unless the owner holds EXECUTE TASK.
GRANT EXECUTE TASK ON ACCOUNT TO ROLE ENERGY_ADMIN;
