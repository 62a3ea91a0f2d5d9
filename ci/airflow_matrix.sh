#!/usr/bin/env bash
# The package installed into each supported Airflow 3 minor the way a data team would add it to theirs:
# Airflow first (its own resolved set stands for Airflow's constraints file, which is published outside the
# package registries this machine reaches), then the project constrained to exactly that set, so the install
# cannot move Airflow or anything it brought. Then the unit tests and one dag.test() run on each.
# Usage: bash ci/airflow_matrix.sh [AIRFLOW_VERSION ...]   (default: the versions below)
set -euo pipefail
cd "$(dirname "$0")/.."
VERSIONS=("$@")
[ ${#VERSIONS[@]} -gt 0 ] || VERSIONS=(3.2.2 3.3.2)
PYTHON=${PYTHON:-python3}

# Versions Airflow's constraints held when it was released, where a later release of a dependency breaks it.
release_pins() {
  case "$1" in
    # svcs 26 breaks 3.2's in-process execution API ('svcs_registry'); FastAPI after 0.136 its task API models
    # (TITerminalStatePayload). Both break dag.test and task runs.
    3.2.*) echo "svcs==25.1.0 fastapi==0.136.3 cadwyn==7.0.0" ;;
  esac
}

for version in "${VERSIONS[@]}"; do
  env_dir=".matrix/airflow-$version"
  echo "== Airflow $version"
  if [ ! -x "$env_dir/bin/python" ] || ! "$env_dir/bin/python" -c "import airflow" 2>/dev/null; then
    rm -rf "$env_dir"
    "$PYTHON" -m venv "$env_dir"
    "$env_dir/bin/pip" install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
    "$env_dir/bin/pip" install -q "apache-airflow==$version" $(release_pins "$version") 2>&1 \
      | grep -v "^WARNING: Location" || true
  fi
  "$env_dir/bin/pip" freeze --exclude-editable | grep -v '^-e' > "$env_dir/airflow-set.txt"
  "$env_dir/bin/pip" install -q -e '.[test]' -c "$env_dir/airflow-set.txt" 2>&1 | grep -v "^WARNING: Location" || true
  installed=$("$env_dir/bin/python" -c "import importlib.metadata as m; print(m.version('apache-airflow'))")
  if [ "$installed" != "$version" ]; then
    echo "Installing focus-twinfield moved Airflow from $version to $installed" >&2
    exit 1
  fi
  "$env_dir/bin/pip" check
  AIRFLOW_HOME="$PWD/$env_dir/airflow-home" "$env_dir/bin/python" -m pytest -q -p no:cacheprovider \
    tests/unit "tests/integration/test_dag_sync.py::test_first_run_books_every_valid_document_and_holds_back_the_rest_with_reasons"
done
