-- Scheduled refresh: load the newest complete export (LATEST) and rebuild the reporting views, daily at 06:00 UTC.
-- Variables: database, warehouse. Deploy the procedures first (`snow snowpark deploy`), then run this file.
CREATE TASK IF NOT EXISTS &{ database }.CURATED.REFRESH_REPORTING_DAILY
    WAREHOUSE = &{ warehouse }
    SCHEDULE = 'USING CRON 0 6 * * * UTC'
    COMMENT = 'Load the latest Gold export and rebuild the reporting views'
AS
    CALL &{ database }.CURATED.REFRESH_REPORTING('&{ database }.CURATED.EXPORT_STAGE', 'LATEST', '&{ database }');

ALTER TASK &{ database }.CURATED.REFRESH_REPORTING_DAILY RESUME;
