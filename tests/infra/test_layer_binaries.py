"""The dependency layer is built for the function's runtime and architecture, without Docker: a
python3.13 arm64 function's layer holds only aarch64 machine code for CPython 3.13 and .pyc files
of 3.13, whatever machine and Python synthesize it (here: x86_64, Python 3.11)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, AssetStaging, Stack
from aws_cdk import aws_lambda as lambda_

from promote_model_cdk.package_data import LAYER_REQUIREMENTS_DIR, LAYER_REQUIREMENTS_FILE
from tests.infra.stacks import make_promote_model
from tests.interpreters import interpreter

ELF_MACHINES = {0x3E: "x86_64", 0xB7: "aarch64"}  # e_machine of an ELF header


def _synthesize(outdir: Path, runtime: lambda_.Runtime, architecture: lambda_.Architecture) -> tuple[Path, Path, Any]:
    """Synthesize one function with bundling; its layer's ``python`` folder, its code folder, the assembly."""
    AssetStaging.clear_asset_hash_cache()  # bundle now, even if another test bundled this platform
    app = App(outdir=str(outdir), context={"aws:cdk:enable-asset-metadata": True})
    stack = Stack(app, "Platform")
    make_promote_model(stack, environment="t", runtime=runtime, architecture=architecture)
    assembly = app.synth()
    template = assembly.get_stack_by_name("Platform").template
    [layer] = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::LayerVersion"]
    [function] = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    return (
        outdir / layer["Metadata"]["aws:asset:path"] / "python",
        outdir / function["Metadata"]["aws:asset:path"],
        assembly,
    )


def _elf_machine(path: Path) -> str:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path.name} is no ELF shared object"
    return ELF_MACHINES.get(int.from_bytes(header[18:20], "little"), f"machine {header[18:20].hex()}")


def _wheel_tags(site: Path) -> dict[str, list[str]]:
    return {
        wheel.parent.name: [
            line.split(":", 1)[1].strip() for line in wheel.read_text().splitlines() if line.startswith("Tag:")
        ]
        for wheel in site.glob("*.dist-info/WHEEL")
    }


def _pyc_tags(folder: Path) -> set[str]:
    return {pyc.name.split(".")[-2] for pyc in folder.rglob("*.pyc")}


def _infos(assembly: Any) -> list[str]:
    return [str(entry.data) for entry in assembly.get_stack_by_name("Platform").find_metadata_by_type("aws:cdk:info")]


@pytest.fixture
def path_with_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``PATH`` holding only the given interpreters (as ``python3.X``): what a machine with exactly
    those Pythons offers the bundling, whatever this one has."""

    def set_path(*interpreters: Path) -> None:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir(exist_ok=True)
        for python in interpreters:
            (bin_dir / python.name).symlink_to(python)
        monkeypatch.setenv("PATH", str(bin_dir))

    return set_path


def test_a_python3_13_arm64_layer_holds_only_aarch64_cpython_3_13_binaries(tmp_path, path_with_only):
    python313 = interpreter("3.13")
    path_with_only(*([python313] if python313 else []))

    layer, code, assembly = _synthesize(tmp_path / "out", lambda_.Runtime.PYTHON_3_13, lambda_.Architecture.ARM_64)

    shared_objects = sorted(layer.rglob("*.so"))
    assert shared_objects, "the layer holds a compiled wheel (wrapt): this test needs one to look at"
    assert {so.name.split(".")[-2] for so in shared_objects} == {"cpython-313-aarch64-linux-gnu"}
    assert {_elf_machine(so) for so in shared_objects} == {"aarch64"}
    tags = _wheel_tags(layer)
    assert tags, "the layer keeps its .dist-info metadata"
    for distribution, wheel_tags in tags.items():
        assert all(
            tag.endswith("-none-any") or (tag.startswith("cp313-cp313-") and tag.endswith("_aarch64"))
            for tag in wheel_tags
        ), f"{distribution}: {wheel_tags}"
    assert any(tag.startswith("cp313-") for wheel_tags in tags.values() for tag in wheel_tags)
    if python313 is not None:  # this machine and CI: compiled by 3.13 itself, for 3.13 only
        assert _pyc_tags(layer) == _pyc_tags(code) == {"cpython-313"}
        assert _infos(assembly) == []
    else:
        assert _pyc_tags(layer) == _pyc_tags(code) == set()


def test_without_the_runtimes_interpreter_the_bundle_has_no_pyc_and_synthesis_says_so(tmp_path, path_with_only):
    path_with_only()  # no python3.12 anywhere, while the app runs on this Python
    assert sys.version_info[:2] != (3, 12)

    layer, code, assembly = _synthesize(tmp_path / "out", lambda_.Runtime.PYTHON_3_12, lambda_.Architecture.X86_64)

    assert _pyc_tags(layer) == _pyc_tags(code) == set()  # never a .pyc of the wrong Python
    assert {so.name.split(".")[-2] for so in layer.rglob("*.so")} == {"cpython-312-x86_64-linux-gnu"}
    infos = _infos(assembly)
    assert len(infos) == 2  # the layer and the code
    assert all("no python3.12 was found to byte-compile the bundle for python3.12" in info for info in infos)


def test_the_layer_holds_exactly_the_pinned_packages_at_their_pinned_versions(tmp_path, path_with_only):
    path_with_only()
    pins = {
        name.lower().replace("-", "_"): version
        for name, version in (
            line.split("==")
            for line in (LAYER_REQUIREMENTS_DIR / LAYER_REQUIREMENTS_FILE).read_text().splitlines()
            if line.strip() and not line.startswith("#")
        )
    }

    layer, _, _ = _synthesize(tmp_path / "out", lambda_.Runtime.PYTHON_3_12, lambda_.Architecture.ARM_64)

    installed = dict(p.name.removesuffix(".dist-info").rsplit("-", 1) for p in layer.glob("*.dist-info"))
    assert {name.lower(): version for name, version in installed.items()} == pins
