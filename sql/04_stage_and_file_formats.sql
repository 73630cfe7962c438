-- Run as ENERGY_ADMIN (needs USAGE on ENERGY_EXPORT_INTEGRATION, 02): the external stage over the export root and
-- the file formats the load procedure uses. Variables: database, export_url (s3://bucket/prefix/; file:///... locally).
-- Timestamps in the export are Parquet TIMESTAMP_NTZ; USE_LOGICAL_TYPE makes COPY read them as timestamps, not integers.
-- CREATE OR ALTER: a re-deploy applies changed options and URL (CREATE ... IF NOT EXISTS would keep the old ones).
CREATE OR ALTER FILE FORMAT <% database %>.CURATED.EXPORT_PARQUET
    TYPE = PARQUET
    USE_LOGICAL_TYPE = TRUE
    BINARY_AS_TEXT = FALSE;

-- _manifest.json is read whole as one VARIANT.
CREATE OR ALTER FILE FORMAT <% database %>.CURATED.EXPORT_JSON
    TYPE = JSON
    STRIP_OUTER_ARRAY = FALSE;

-- LATEST holds one line: the newest complete batch id.
CREATE OR ALTER FILE FORMAT <% database %>.CURATED.EXPORT_TEXT
    TYPE = CSV
    FIELD_DELIMITER = NONE
    SKIP_HEADER = 0;

CREATE OR ALTER STAGE <% database %>.CURATED.EXPORT_STAGE
    URL = '<% export_url %>'
    STORAGE_INTEGRATION = ENERGY_EXPORT_INTEGRATION
    FILE_FORMAT = (FORMAT_NAME = '<% database %>.CURATED.EXPORT_PARQUET')
    COMMENT = 'Gold export: {batch_id}/{table}/part-*.parquet, {batch_id}/_manifest.json, LATEST';
