-- Run as ENERGY_ADMIN (owner of the database). Variables: database.
-- CURATED: one table per exported Gold table + LOAD_HISTORY, the stage and file formats; written only by the loader.
-- REPORTING: views and UDFs that analysts and the app read.  APP: the Streamlit app.
CREATE SCHEMA IF NOT EXISTS <% database %>.CURATED COMMENT = 'Gold tables loaded from the lakehouse export';
CREATE SCHEMA IF NOT EXISTS <% database %>.REPORTING COMMENT = 'Views and load-factor functions for analysts and the app';
CREATE SCHEMA IF NOT EXISTS <% database %>.APP COMMENT = 'Streamlit in Snowflake app';
