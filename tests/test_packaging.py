"""A non-editable install must carry its templates, migrations and manifests inside the package."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build_dir = tmp_path_factory.mktemp("build")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
        ],
        check=True,
        cwd=build_dir,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )
    (path,) = out.glob("referent-*.whl")
    return path


def test_wheel_ships_data_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected_suffixes = [
        "storage/migrations/env.py",
        "storage/migrations/script.py.mako",
        "storage/migrations/versions/0001_initial_schema.py",
        "templates/referat/referat.md.j2",
        "templates/referat/referat.html.j2",
        "templates/referat/referat.docx",
        "templates/referat/referat.typ",
        "templates/referat/fonts/DejaVuSans.ttf",
        "templates/referat/fonts/DejaVuSans-Bold.ttf",
        "templates/referat/fonts/DejaVuSans-Oblique.ttf",
        "templates/referat/fonts/DejaVuSans-BoldOblique.ttf",
        "templates/referat/fonts/LICENSE.DejaVu",
        "templates/chat/nb.toml",
        "templates/chat/en.toml",
        "manifest/slack/manifest.yaml",
        "manifest/teams/manifest.json",
        "manifest/teams/color.png",
        "manifest/teams/outline.png",
    ]
    missing = [s for s in expected_suffixes if s not in names]
    assert not missing, f"not in the wheel: {missing}"
    assert not any(n.startswith("tests/") for n in names)


def test_installed_package_migrates_outside_the_source_tree(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
    )
    db_file = tmp_path / "x.db"
    env = {**os.environ, "PYTHONPATH": str(target), "DATABASE_URL": f"sqlite:///{db_file}"}
    code = (
        "import bot, storage, sys; from bot.cli import main; "
        f"assert bot.__file__.startswith({str(target)!r}), bot.__file__; "
        "sys.exit(main(['db', 'upgrade']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert db_file.exists() and db_file.stat().st_size > 0
