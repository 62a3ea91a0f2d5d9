-- Runs once, when the postgres service's data volume is first created: the sync's state store database.
CREATE DATABASE focus_twinfield;
