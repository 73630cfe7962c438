-- Run as ENERGY_ADMIN (needs USAGE on ENERGY_EXPORT_INTEGRATION, 02): the external stage over the export root and
-- the file formats the load procedure uses. Variables: database, export_url (s3://bucket/prefix/; file:///... locally).
-- Timestamps in the export are Parquet TIMESTAMP_NTZ; USE_LOGICAL_TYPE makes COPY read them as timestamps, not integers.
CREATE FILE FORMAT IF NOT EXISTS <% database %>.CURATED.EXPORT_PARQUET
    TYPE = PARQUET
    USE_LOGICAL_TYPE = TRUE
    BINARY_AS_TEXT = FALSE;

-- _manifest.json is read whole as one VARIANT.
CREATE FILE FORMAT IF NOT EXISTS <% database %>.CURATED.EXPORT_JSON
    TYPE = JSON
    STRIP_OUTER_ARRAY = FALSE;

-- LATEST holds one line: the newest complete batch id.
CREATE FILE FORMAT IF NOT EXISTS <% database %>.CURATED.EXPORT_TEXT
    TYPE = CSV
    FIELD_DELIMITER = NONE
    SKIP_HEADER = 0;

CREATE STAGE IF NOT EXISTS <% database %>.CURATED.EXPORT_STAGE
    URL = '<% export_url %>'
    STORAGE_INTEGRATION = ENERGY_EXPORT_INTEGRATION
    FILE_FORMAT = <% database %>.CURATED.EXPORT_PARQUET
    COMMENT = 'Gold export: {batch_id}/{table}/part-*.parquet, {batch_id}/_manifest.json, LATEST';
