"""Job entry points, one module per task (bronze, silver, gold, export), and the pipeline that chains them.

Each task module has `main(argv=None)`; the same functions run as Databricks python_wheel_task entry points
(see databricks_jobs/resources/energy_pipeline.job.yml) and locally through `energy-platform pipeline`.
"""
