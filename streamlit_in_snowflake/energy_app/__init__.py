"""The Streamlit-in-Snowflake app's modules: reporting-view names, filters, Snowpark queries, metrics, charts, tabs."""
