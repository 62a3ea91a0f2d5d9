"""The Twinfield hook package: ``hook`` (the Airflow entry point), ``client`` (login, credits, transport,
retries), ``connectors`` (one per entity), ``auth`` (OAuth2 / Session), ``limits`` (fair use), ``soap`` (zeep
clients, headers, transport outcomes). Only this package imports zeep."""

from twinfield.hooks.twinfield.hook import TwinfieldHook

__all__ = ["TwinfieldHook"]
