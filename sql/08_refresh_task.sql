-- Run as ENERGY_ADMIN, after the procedures are deployed and after 00_roles.sql granted it EXECUTE TASK (a task runs
-- as its owner and resumes only when the owner holds EXECUTE TASK). Scheduled refresh: load the newest complete
-- export (LATEST), daily at 06:00 UTC (the views were built at deploy and show new rows as they land).
-- Variables: database, warehouse. A task is altered only while suspended, so a re-deploy suspends it, applies the
-- new warehouse, schedule or body (CREATE OR ALTER: CREATE ... IF NOT EXISTS would keep the old ones) and resumes.
ALTER TASK IF EXISTS <% database %>.CURATED.REFRESH_REPORTING_DAILY SUSPEND;

CREATE OR ALTER TASK <% database %>.CURATED.REFRESH_REPORTING_DAILY
    WAREHOUSE = <% warehouse %>
    SCHEDULE = 'USING CRON 0 6 * * * UTC'
    COMMENT = 'Load the latest Gold export'
AS
    CALL <% database %>.CURATED.REFRESH_REPORTING('<% database %>.CURATED.EXPORT_STAGE', 'LATEST', '<% database %>');

ALTER TASK <% database %>.CURATED.REFRESH_REPORTING_DAILY RESUME;
