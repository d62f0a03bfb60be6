"""One version everywhere a user reads it: the package's ``__version__`` (what ``make dist`` names the
wheel after), the latest release in CHANGELOG.md, and the wheel the install instructions name."""

from __future__ import annotations

import re
from pathlib import Path

import promote_model_cdk

ROOT = Path(__file__).resolve().parents[2]

INSTRUCTIONS = [
    ROOT / "README.md",
    ROOT / "docs" / "library.md",
    ROOT / "docs" / "platform.md",
    ROOT / "examples" / "retraining_app" / "README.md",
]


def test_the_package_the_changelog_and_the_install_instructions_name_one_version():
    released = re.findall(r"^## (\d+\.\d+\.\d+) ", (ROOT / "CHANGELOG.md").read_text(), flags=re.M)
    named = {
        path.name: set(re.findall(r"promote_model_cdk-(\d+\.\d+\.\d+)-py3-none-any\.whl", path.read_text()))
        for path in INSTRUCTIONS
    }

    assert released[0] == promote_model_cdk.__version__
    assert named == {path.name: {promote_model_cdk.__version__} for path in INSTRUCTIONS}


def test_no_install_instruction_points_at_a_git_tag():
    for path in INSTRUCTIONS:
        assert "git+https://" not in path.read_text(), f"{path.name} installs from a git URL nothing checks"
