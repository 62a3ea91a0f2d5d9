# The official Airflow image with focus-twinfield installed (docker-compose.yaml builds both targets).
#   airflow: what every Airflow service runs: the package, the DAG and its mappings.
#   sandbox: the same plus the local API emulators, for a trial without real accounts.
ARG AIRFLOW_VERSION=3.3.2
FROM apache/airflow:${AIRFLOW_VERSION} AS airflow
ARG AIRFLOW_VERSION

# Install first (cached while only the DAG changes); pin apache-airflow so pip never moves the image's core,
# and take every other version from constraints.txt, as make and CI do.
COPY --chown=airflow:0 pyproject.toml README.md constraints.txt /opt/focus-twinfield/
COPY --chown=airflow:0 plugins/twinfield /opt/focus-twinfield/plugins/twinfield
COPY --chown=airflow:0 include/sql /opt/focus-twinfield/include/sql
RUN pip install --no-cache-dir -c /opt/focus-twinfield/constraints.txt "apache-airflow==${AIRFLOW_VERSION}" \
    "/opt/focus-twinfield[postgres]"

COPY --chown=airflow:0 dags/ /opt/airflow/dags/
COPY --chown=airflow:0 include/ /opt/airflow/include/

FROM airflow AS sandbox
ARG AIRFLOW_VERSION
COPY --chown=airflow:0 sandbox /opt/focus-twinfield/sandbox
RUN pip install --no-cache-dir -c /opt/focus-twinfield/constraints.txt "apache-airflow==${AIRFLOW_VERSION}" \
    "/opt/focus-twinfield[sandbox]"
# `python -m sandbox` finds the sandbox package in the working directory (it is not part of the wheel).
WORKDIR /opt/focus-twinfield
