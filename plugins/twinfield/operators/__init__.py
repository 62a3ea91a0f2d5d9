"""One operator per stage of the sync, thin: they read the state store, call the hooks and the pure domain
code, and write the state store. See each module for what its stage does."""

from twinfield.operators.extract import ExtractOperator
from twinfield.operators.load_drafts import LoadDraftsOperator
from twinfield.operators.pull_reconciliations import PullReconciliationsOperator
from twinfield.operators.report import ReportOperator
from twinfield.operators.resolve_customers import ResolveCustomersOperator
from twinfield.operators.update_payments import UpdatePaymentsOperator
from twinfield.operators.validate import ValidateOperator

__all__ = [
    "ExtractOperator",
    "LoadDraftsOperator",
    "PullReconciliationsOperator",
    "ReportOperator",
    "ResolveCustomersOperator",
    "UpdatePaymentsOperator",
    "ValidateOperator",
]
