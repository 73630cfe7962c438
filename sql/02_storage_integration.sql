-- Run as ACCOUNTADMIN (or a role with CREATE INTEGRATION): the only step that needs it. The integration holds the IAM
-- role Snowflake assumes to read the export (no keys stored); `DESC INTEGRATION ENERGY_EXPORT_INTEGRATION` shows the
-- principal and external id for the role's trust policy. Variables: export_url (s3://bucket/prefix/), aws_role_arn.
CREATE STORAGE INTEGRATION IF NOT EXISTS ENERGY_EXPORT_INTEGRATION
    TYPE = EXTERNAL_STAGE
    STORAGE_PROVIDER = 'S3'
    ENABLED = TRUE
    STORAGE_AWS_ROLE_ARN = '<% aws_role_arn %>'
    STORAGE_ALLOWED_LOCATIONS = ('<% export_url %>');
-- A re-deploy applies a new role or export location: CREATE ... IF NOT EXISTS keeps an existing integration as it was.
ALTER STORAGE INTEGRATION ENERGY_EXPORT_INTEGRATION SET
    ENABLED = TRUE
    STORAGE_AWS_ROLE_ARN = '<% aws_role_arn %>'
    STORAGE_ALLOWED_LOCATIONS = ('<% export_url %>');
GRANT USAGE ON INTEGRATION ENERGY_EXPORT_INTEGRATION TO ROLE <% admin_role %>;
