"""Pure domain code: no airflow, zeep, requests or SQLAlchemy imports here."""
