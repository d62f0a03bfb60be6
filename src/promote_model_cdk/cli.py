"""``promote-model``: the function's own command line, run from the code this package carries.

It needs the function's runtime packages, which the constructs do not:
``pip install 'promote-model-cdk[cli]'``. Exit codes are the function CLI's (docs/cli.md).
"""

from __future__ import annotations

import sys

from promote_model_cdk.package_data import function_source_dir

_ERROR_EXIT_CODE = 30  # the CLI's "error" code


def main() -> int:
    sys.path.insert(0, str(function_source_dir().parent))
    try:
        from promote_model.cli import main as promote_model_main
    except ModuleNotFoundError as error:
        print(
            f"promote-model: the command needs the function's runtime packages ({error.name} is missing): "
            "pip install 'promote-model-cdk[cli]'",
            file=sys.stderr,
        )
        return _ERROR_EXIT_CODE
    return promote_model_main()


if __name__ == "__main__":
    sys.exit(main())
