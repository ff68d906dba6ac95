"""`connect_to_data_hub`: a client built from arguments, settings (FXHUB_URL, FXHUB_TOKEN), the token file."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from fxhub.hub.client._protocol import DEFAULT_TIMEOUT_S, as_token, check_url
from fxhub.hub.client.async_ import AsyncHubClient
from fxhub.hub.client.sync import HubClient
from fxhub.settings import Secret, load_settings

__all__ = ["connect_to_data_hub", "connect_to_data_hub_async"]

logger = logging.getLogger(__name__)


def _resolve(
    url: str | None,
    token: str | Secret | None,
    environ: Mapping[str, str] | None,
    cwd: Path | None,
) -> tuple[str, Secret | None, str]:
    """(url, token, where the token came from) by the documented precedence."""
    given = as_token(token)
    if url is not None and given is not None:
        return check_url(url), given, "the `token` argument"
    settings = load_settings(environ, cwd)
    resolved_url = check_url(url) if url is not None else settings.fxhub_url
    if given is not None:
        return resolved_url, given, "the `token` argument"
    if settings.fxhub_token is not None:
        return resolved_url, settings.fxhub_token, "FXHUB_TOKEN"
    # Imported here: the rule lives with the hub that writes the file, and `fxhub.hub.server` pulls in
    # FastAPI and uvicorn, which a client that has FXHUB_TOKEN never needs.
    from fxhub.hub.server.token import read_token_file, token_file_path

    path = token_file_path(os.environ if environ is None else environ)
    from_file = read_token_file(path)
    if from_file is not None:
        return resolved_url, from_file, f"the token file {path}"
    return (
        resolved_url,
        None,
        f"nowhere: FXHUB_TOKEN is not set and there is no token file at {path} "
        "(`fxhub serve` writes it on its first start)",
    )


def connect_to_data_hub(
    url: str | None = None,
    token: str | Secret | None = None,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> HubClient:
    """A `HubClient` for the hub at `url`.

    `url` defaults to FXHUB_URL (environment, `.env`, `.env.scalper`; else http://127.0.0.1:50000).
    `token` defaults to FXHUB_TOKEN, else the token file `fxhub serve` writes on this machine
    (`FXHUB_TOKEN_FILE` or `<user config dir>/fxhub/hub.token`). No connection is made until the first
    call, so a hub that is down shows up as `HubUnreachable` there.
    """
    resolved_url, resolved_token, origin = _resolve(url, token, environ, cwd)
    logger.info("hub client: url=%s token=%s token_from=%s", resolved_url, resolved_token, origin)
    return HubClient(resolved_url, resolved_token, timeout_s=timeout_s, token_origin=origin)


def connect_to_data_hub_async(
    url: str | None = None,
    token: str | Secret | None = None,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> AsyncHubClient:
    """The asyncio twin of `connect_to_data_hub`: same defaults, an `AsyncHubClient`."""
    resolved_url, resolved_token, origin = _resolve(url, token, environ, cwd)
    logger.info("hub client: url=%s token=%s token_from=%s", resolved_url, resolved_token, origin)
    return AsyncHubClient(resolved_url, resolved_token, timeout_s=timeout_s, token_origin=origin)
