#!/usr/bin/env bash
# The DAG under the CeleryExecutor with PostgreSQL and Redis from Debian's packages, two Celery workers,
# on 127.0.0.1 (tests/e2e/test_celery_postgres.py starts and stops every service itself).
# Run from .ci/run after `make test`; needs root for apt-get when the packages are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v redis-server >/dev/null \
   || ! command -v docker-compose >/dev/null; then
  apt-get update -q
  # docker-compose (1.29, Python): only to parse docker-compose.yaml; there is no Docker daemon here.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql redis-server docker-compose
fi
# Debian starts its own PostgreSQL cluster and Redis on install; the test runs private ones on free ports.
.venv/bin/pip install -q -e '.[test,celery]' -c constraints.txt

export FOCUS_TWINFIELD_E2E=1
exec timeout --signal=TERM --kill-after=30 900 \
  .venv/bin/python -m pytest tests/e2e/test_state_postgres.py tests/e2e/test_celery_postgres.py \
  "tests/unit/test_compose.py::test_docker_compose_itself_accepts_the_file" -p no:cacheprovider -q -ra
