"""`make deploy` preflight: fail at once, and say why, when this shell has no AWS credentials.

The EC2/ECS metadata endpoints are not consulted (AWS_EC2_METADATA_DISABLED), so a machine without
them cannot hang here; `cdk deploy` itself then does the real work.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    import boto3

    credentials = boto3.Session().get_credentials()
    if credentials is None:
        print(
            "make deploy: no AWS credentials found in this shell. Configure them first "
            "(aws configure / aws sso login, AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), "
            "then run make deploy ENV=<dev|staging|prod> again.",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
