"""promote-model: promote an MLflow model version to Production (the Lambda package)."""
