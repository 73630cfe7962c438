-- Run as SECURITYADMIN (MANAGE GRANTS), only for the native-app route: ENERGY_ADMIN creates and owns the application
-- package and the application (`snow app run`).
GRANT CREATE APPLICATION PACKAGE ON ACCOUNT TO ROLE <% admin_role %>;
GRANT CREATE APPLICATION ON ACCOUNT TO ROLE <% admin_role %>;
