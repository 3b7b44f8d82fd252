"""The operations web service (FastAPI): the only layer that knows HTTP and SQL."""
