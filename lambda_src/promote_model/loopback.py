"""Which hosts are this machine (``localhost`` or a loopback address): plain http to them crosses no
network. Plain Python with no imports of this package, so the CDK library's synth checks load the
same rule from its installed copy (``promote_model_cdk._lambda.promote_model.loopback``)."""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
