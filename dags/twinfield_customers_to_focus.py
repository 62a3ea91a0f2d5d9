"""Import a Twinfield office's customers into Teamleader Focus, so that the sync books on them.

Triggered by hand, once before the first sync (as Focus's own Twinfield connector recommends) and whenever
the bookkeeper added customers in Twinfield. For each Twinfield customer (hidden ones left out) it finds the
Focus company it is, by a stored link, the VAT number or the name, and records the link that the sync's
``resolve_customers`` uses, so that invoices of that company book on the existing Twinfield customer. The
ones Focus lacks are created there (name, VAT number, address, invoicing e-mail, IBAN). Ambiguous ones are
skipped, each with its reason, for a person to link. The task log shows the report; a **Dry run** only shows
the plan and writes nothing.

Wiring only: the work is ``twinfield.operators.customers_to_focus``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from twinfield.operators.customers_to_focus import TwinfieldCustomersToFocusOperator

with DAG(
    dag_id="twinfield_customers_to_focus",
    description="Import Twinfield customers into Teamleader Focus and link them for the sync",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="Europe/Amsterdam"),
    catchup=False,
    max_active_runs=1,
    params={
        "office": Param(
            None,
            type=["null", "string"],
            title="Twinfield office",
            description="Office code, e.g. NLA001 (default: the Twinfield connection's office).",
        ),
        "dry_run": Param(True, type="boolean", title="Dry run",
                         description="Only report what would be linked and created."),
    },
    tags=["teamleader-focus", "twinfield", "finance"],
    doc_md=__doc__,
) as dag:
    TwinfieldCustomersToFocusOperator(
        task_id="import_customers", office="{{ params.office or '' }}", dry_run="{{ params.dry_run }}",
        retries=2,
    )
