"""One connector per Twinfield entity, each a thin layer over :class:`TwinfieldClient` and the entity's pure
XML module in ``twinfield.domain.twinfield``."""

from twinfield.hooks.twinfield.connectors.customers import Customers
from twinfield.hooks.twinfield.connectors.matching import Matching
from twinfield.hooks.twinfield.connectors.reference import Reference
from twinfield.hooks.twinfield.connectors.transactions import Transactions

__all__ = ["Customers", "Matching", "Reference", "Transactions"]
