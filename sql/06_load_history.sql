-- One row per table per load (status LOADED, or SKIPPED when the batch was loaded already), or one FAILED row
-- naming the table and the error. REPORTING.DATA_FRESHNESS: last changed (LOADED) and last checked (LOADED or SKIPPED).
-- The last LOADED batch is the state CURATED is in: an incremental batch loads only on top of it.
CREATE TABLE IF NOT EXISTS <% database %>.CURATED.LOAD_HISTORY (
    LOAD_ID VARCHAR NOT NULL COMMENT 'one id per CALL of the load procedure (a chain of batches shares it)',
    BATCH_ID VARCHAR NOT NULL,
    TABLE_NAME VARCHAR COMMENT 'null when the load failed before reaching a table (e.g. unreadable manifest)',
    STATUS VARCHAR NOT NULL COMMENT 'LOADED | SKIPPED | FAILED',
    FILES_LOADED NUMBER(10, 0) NOT NULL COMMENT 'row files and deleted-key files',
    ROWS_IN_MANIFEST NUMBER(19, 0) NOT NULL,
    ROWS_LOADED NUMBER(19, 0) NOT NULL,
    ROWS_REJECTED NUMBER(19, 0) NOT NULL,
    ROWS_REPLACED NUMBER(19, 0) NOT NULL COMMENT 'existing rows with the same primary key, replaced by the load',
    LOADED_AT_UTC TIMESTAMP_NTZ NOT NULL,
    ERROR_MESSAGE VARCHAR,
    MODE VARCHAR COMMENT 'full | incremental (export manifest version 2); null before it or when the manifest was unread',
    ROWS_DELETED NUMBER(19, 0) COMMENT 'existing rows deleted: absent from a full batch, or deleted keys of an incremental one',
    CONTRACT_VERSION NUMBER(10, 0) COMMENT 'the export contract version of the batch; null before contract versions'
)
COMMENT = 'Audit of every load of the Gold export';

-- Deployments made before manifest version 2: the same columns, added once (no-ops on a table created above).
ALTER TABLE <% database %>.CURATED.LOAD_HISTORY ADD COLUMN IF NOT EXISTS MODE VARCHAR
    COMMENT 'full | incremental (export manifest version 2); null before it or when the manifest was unread';
ALTER TABLE <% database %>.CURATED.LOAD_HISTORY ADD COLUMN IF NOT EXISTS ROWS_DELETED NUMBER(19, 0)
    COMMENT 'existing rows deleted: absent from a full batch, or deleted keys of an incremental one';

-- The contract version and fingerprint each CURATED table (and LOAD_HISTORY) was created or last upgraded with,
-- written by the warehouse upgrade that the load procedure runs before each load (docs/upgrading.md). A deployment
-- made before contract versions gets this table, LOAD_HISTORY's CONTRACT_VERSION and every row from that upgrade.
CREATE TABLE IF NOT EXISTS <% database %>.CURATED.CONTRACT_VERSIONS (
    TABLE_NAME VARCHAR NOT NULL,
    CONTRACT_VERSION NUMBER(10, 0) NOT NULL,
    FINGERPRINT VARCHAR NOT NULL COMMENT 'databricks_jobs.tables.TableContract.fingerprint',
    UPGRADED_AT_UTC TIMESTAMP_NTZ NOT NULL,
    PRIMARY KEY (TABLE_NAME)
)
COMMENT = 'Contract version of each warehouse table';

-- The load lock: one row. A load's transaction starts with an UPDATE of it, which Snowflake holds until COMMIT, so two
-- loads (the daily task and a manual CALL) change CURATED one after the other, each on the state the other left.
CREATE TABLE IF NOT EXISTS <% database %>.CURATED.LOAD_LOCK (
    LOCK_NAME VARCHAR NOT NULL,
    LOAD_ID VARCHAR COMMENT 'the load that last held the lock',
    LOCKED_AT_UTC TIMESTAMP_NTZ
)
COMMENT = 'One row, updated first by every load transaction: loads never interleave';
INSERT INTO <% database %>.CURATED.LOAD_LOCK (LOCK_NAME)
    SELECT 'LOAD' WHERE NOT EXISTS (SELECT 1 FROM <% database %>.CURATED.LOAD_LOCK WHERE LOCK_NAME = 'LOAD');
