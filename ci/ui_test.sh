#!/usr/bin/env bash
# The Airflow UI in a real browser: `airflow standalone` (SQLite, LocalExecutor) against the sandbox, driven
# by Playwright through Debian's chromium (tests/e2e/test_ui.py). No browser is downloaded.
# Run from .ci/run after `make test`; needs root for apt-get when chromium is missing.
# FOCUS_TWINFIELD_SCREENSHOTS=docs/screenshots refreshes the screenshots in the docs.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
fi
.venv/bin/pip install -q -e '.[test,ui-test]' -c constraints.txt

export FOCUS_TWINFIELD_E2E=1
exec timeout --signal=TERM --kill-after=30 600 \
  .venv/bin/python -m pytest tests/e2e/test_ui.py -p no:cacheprovider -q -ra
