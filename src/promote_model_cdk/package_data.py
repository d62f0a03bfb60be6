"""Where this package keeps the function's code and its layer's requirements (no CDK import here:
the ``promote-model`` command uses it too)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

FUNCTION_PACKAGE = "promote_model"
LAYER_REQUIREMENTS_DIR = Path(__file__).resolve().parent / "layer"
LAYER_REQUIREMENTS_FILE = "requirements.txt"


def function_source_dir() -> Path:
    """The function's package (``promote_model``) as this library carries it.

    Found through the import system, so an installed copy gives its own package data and a
    development install (``pip install -e .``) gives the mapped source; the package is not imported.
    """
    spec = importlib.util.find_spec(f"promote_model_cdk._lambda.{FUNCTION_PACKAGE}")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "promote_model_cdk carries no function code: install the distribution (pip install ...), "
            "do not copy the promote_model_cdk folder alone"
        )
    return Path(next(iter(spec.submodule_search_locations)))
