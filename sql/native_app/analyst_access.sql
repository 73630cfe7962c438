-- Run as ENERGY_ADMIN (owner of the application), after the references are bound: analysts open the app through its
-- application role; they get nothing of ENERGY beyond 09_analyst_grants.sql. Variables: app.
GRANT APPLICATION ROLE <% app %>.app_public TO ROLE <% analyst_role %>;
