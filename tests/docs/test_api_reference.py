"""The API reference `make docs` builds: every public name of promote_model_cdk has a docstring, the
build writes a page holding each of them, and it fails (never silently) on a name without a
docstring or one that pdoc cannot resolve."""

from __future__ import annotations

from pathlib import Path

import pytest

import promote_model_cdk
from devtools.docs.api_reference import PACKAGE, build, undocumented

# A package with one gap of each kind, to prove the check finds them (the real one has none).
GAPPY = '''
"""A package with gaps."""

__all__ = ["Documented", "Bare", "helper", "Missing"]


class Documented:
    """Documented."""

    size: int
    """Documented."""
    colour: str

    def method(self) -> None:
        """Documented."""

    def bare_method(self) -> None:
        pass

    @property
    def bare_property(self) -> int:
        return 1

    def _private(self) -> None:
        pass


class Bare:
    pass


def helper() -> None:
    pass
'''


@pytest.fixture
def gappy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "gappy_package").mkdir()
    (tmp_path / "gappy_package" / "__init__.py").write_text(GAPPY)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "gappy_package"


def test_every_public_name_has_a_docstring() -> None:
    assert undocumented() == []


def test_the_check_names_each_public_name_without_a_docstring(gappy: str) -> None:
    with pytest.warns(UserWarning, match="'Missing'"):  # pdoc's own word on the name that does not resolve
        missing = undocumented(gappy)
    assert missing == [
        "gappy_package.Documented.colour",
        "gappy_package.Documented.bare_method",
        "gappy_package.Documented.bare_property",
        "gappy_package.Bare",
        "gappy_package.helper",
        "gappy_package.Missing: does not resolve",
    ]


def test_the_reference_builds_with_every_public_name(tmp_path: Path) -> None:
    assert build(tmp_path / "docs") == []
    page = (tmp_path / "docs" / f"{PACKAGE}.html").read_text()
    for name in promote_model_cdk.__all__:
        assert f'id="{name}"' in page, f"{name} is not in the reference"
    assert 'id="PromoteModel.fragment"' in page
    assert 'id="MlflowAuth.sagemaker"' in page


def test_the_build_fails_on_a_gap_and_on_what_pdoc_cannot_resolve(tmp_path: Path, gappy: str) -> None:
    problems = build(tmp_path / "docs", gappy)
    assert "no docstring: gappy_package.helper" in problems
    assert any(p.startswith("pdoc: ") and "'Missing'" in p for p in problems), problems
