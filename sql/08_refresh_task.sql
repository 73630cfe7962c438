-- Run as ENERGY_ADMIN, after the procedures are deployed and after 00_roles.sql granted it EXECUTE TASK (a task runs
-- as its owner and resumes only when the owner holds EXECUTE TASK). Scheduled refresh: load the newest complete
-- export (LATEST) and rebuild the reporting views, daily at 06:00 UTC. Variables: database, warehouse.
CREATE TASK IF NOT EXISTS <% database %>.CURATED.REFRESH_REPORTING_DAILY
    WAREHOUSE = <% warehouse %>
    SCHEDULE = 'USING CRON 0 6 * * * UTC'
    COMMENT = 'Load the latest Gold export and rebuild the reporting views'
AS
    CALL <% database %>.CURATED.REFRESH_REPORTING('<% database %>.CURATED.EXPORT_STAGE', 'LATEST', '<% database %>');

ALTER TASK <% database %>.CURATED.REFRESH_REPORTING_DAILY RESUME;
