"""TLS to PostgreSQL: what a connection's transport must prove before a password crosses it.

Over TCP the server's certificate must chain to a trusted CA and name the host connected to
(libpq's `verify-full`); a server that declines TLS is refused, never used in plaintext (pg8000
raises "Server refuses SSL" when it is given an `ssl_context` and the server answers no). The
trusted CAs are the RDS bundle shipped beside this module, or `DATABASE_CA_FILE`. A unix socket is
left as it is: PostgreSQL has no TLS there and the socket never leaves the machine (the embedded
server is reached that way). `DATABASE_TLS=disable` turns TLS off, for a server on this machine only:
a loopback address or `localhost`, and in a container that sam local runs (it sets `AWS_SAM_LOCAL`)
also `host.docker.internal`, the name Docker gives a container for the machine it runs on, where the
developer's PostgreSQL listens. Lambda never sets `AWS_SAM_LOCAL` and the template does not declare
it, so in the cloud that name is refused like any other, whatever a VPC's DNS might make it resolve to.
"""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path
from typing import Any

from sqlalchemy import URL

from storywink.config import ConfigurationError, Settings

CA_BUNDLE = Path(__file__).with_name("certificates") / "rds-ca-bundle.pem"
# The machine a container runs on, as the container names it (Docker Desktop; on Linux `--add-host`).
DOCKER_HOST = "host.docker.internal"


def tls_connect_args(settings: Settings, url: URL) -> dict[str, Any]:
    """pg8000's connect arguments for the transport of ``url``: none for a unix socket, else its `ssl_context`."""
    if "unix_sock" in url.query:
        return {}
    host = url.host or "localhost"  # pg8000's own default
    if settings.database_tls == "disable":
        if not _on_this_machine(host, sam_local=settings.sam_local):
            raise ConfigurationError(
                "invalid configuration: DATABASE_TLS: disable is only allowed for a server on this machine "
                f"(or {DOCKER_HOST} under sam local), not {host}"
            )
        return {"ssl_context": False}
    return {"ssl_context": verifying_context(settings.database_ca_file or CA_BUNDLE)}


def verifying_context(ca_file: Path) -> ssl.SSLContext:
    """Certificate and host name checked against ``ca_file`` alone (not the system's store), TLS 1.2 at least."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    return context


def _on_this_machine(host: str, *, sam_local: bool) -> bool:
    if host.lower() == "localhost" or (sam_local and host.lower() == DOCKER_HOST):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
