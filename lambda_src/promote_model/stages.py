"""The stage values of MLflow's model registry."""

from enum import StrEnum


class ModelStage(StrEnum):
    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"
