"""focus-twinfield: book Teamleader Focus invoices in Twinfield and bring payments back."""

__version__ = "0.1.0"
