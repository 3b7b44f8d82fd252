"""The service's jobs: plans and re-plans run on the Dask cluster (``corridor.jobs``), recorded in
the ``jobs`` table so that a job outlives the page that started it."""
