-- One row per table per load (status LOADED, or SKIPPED when the batch was loaded already), or one FAILED row
-- naming the table and the error. REPORTING.DATA_FRESHNESS: last changed (LOADED) and last checked (LOADED or SKIPPED).
CREATE TABLE IF NOT EXISTS <% database %>.CURATED.LOAD_HISTORY (
    LOAD_ID VARCHAR NOT NULL COMMENT 'one id per CALL of the load procedure',
    BATCH_ID VARCHAR NOT NULL,
    TABLE_NAME VARCHAR COMMENT 'null when the load failed before reaching a table (e.g. unreadable manifest)',
    STATUS VARCHAR NOT NULL COMMENT 'LOADED | SKIPPED | FAILED',
    FILES_LOADED NUMBER(10, 0) NOT NULL,
    ROWS_IN_MANIFEST NUMBER(19, 0) NOT NULL,
    ROWS_LOADED NUMBER(19, 0) NOT NULL,
    ROWS_REJECTED NUMBER(19, 0) NOT NULL,
    ROWS_REPLACED NUMBER(19, 0) NOT NULL COMMENT 'existing rows with the same primary key, replaced by the load',
    LOADED_AT_UTC TIMESTAMP_NTZ NOT NULL,
    ERROR_MESSAGE VARCHAR
)
COMMENT = 'Audit of every load of the Gold export';
