"""What the package serves on Airflow's API server: the report pages (``app``) and the plugin that mounts them."""
