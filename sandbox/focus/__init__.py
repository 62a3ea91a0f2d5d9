"""A local Teamleader Focus: OAuth2 with single-use refresh tokens, the API methods the integration uses
(answering in the shapes of Focus' openapi.yaml), its rate limit, fault injection, and seeded data.

``FocusSandbox(data, client_id, client_secret, initial_refresh_token, rate_limit_per_minute=200).app()`` is
the FastAPI app; ``sandbox.focus.generate.generate()`` makes the data.
"""

from sandbox.focus.emulator import FocusSandbox

__all__ = ["FocusSandbox"]
