"""Twinfield's XML, per entity: requests built from the model and replies read back into it (pure: lxml and
the model only). ``common`` holds what every entity shares: parsing, messages, dates, amounts, item results."""
