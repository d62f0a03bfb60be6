"""The function's code as package data: the build maps ``lambda_src/promote_model`` here as
``promote_model_cdk._lambda.promote_model`` (pyproject.toml, ``package-dir``), so an installed copy
carries the exact source it bundles. Never imported as code: the bundling copies it."""
