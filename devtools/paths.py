"""Where things are: the checkout's root, for the tools of every package (bench, local, deploy)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository's root directory (the folder holding pyproject.toml)."""
