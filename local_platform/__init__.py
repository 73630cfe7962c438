"""The local platform: one command line over the embedded stand-ins (local Spark + Delta, S3 API server,
local Snowflake warehouse, Streamlit) so the whole flow runs on a laptop with no cloud account."""
