-- Run as SYSADMIN (CREATE DATABASE): the database is created once and handed to ENERGY_ADMIN, which creates the
-- rest. Variables: database.
CREATE DATABASE IF NOT EXISTS <% database %> COMMENT = 'Energy usage and reliability: curated Gold, reporting views, app';
GRANT OWNERSHIP ON DATABASE <% database %> TO ROLE <% admin_role %> COPY CURRENT GRANTS;
