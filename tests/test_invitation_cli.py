"""`referent innkalling import`: exit codes, --dry-run stores nothing, re-import changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.invitation_fixtures import TXT_SAK, docx_bytes

GROUP = "Faggruppe for klima"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["innkalling", "import", *args])
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """A SQLite database with the group in it (made by a roster import), and the invitations."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'referent.db'}")
    roster = tmp_path / "roster.csv"
    roster.write_text("Fornavn;Etternavn;Organisasjon\nTove;Lund;Røyken\n", encoding="utf-8")
    assert main(["roster", "import", str(roster), "--group", GROUP]) == 0
    (tmp_path / "innkalling.txt").write_text(TXT_SAK, encoding="utf-8")
    (tmp_path / "innkalling.docx").write_bytes(docx_bytes())
    (tmp_path / "uten-dato.md").write_text(
        "# Innkalling\n\nSak 1 Godkjenning\nSak tre: Budsjett\n", encoding="utf-8"
    )
    (tmp_path / "innkalling.pdf").write_bytes(b"%PDF-1.4")
    capsys.readouterr()
    return tmp_path


def test_dry_run_then_import_then_again(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = str(workdir / "innkalling.txt")
    status, out, _ = _run(capsys, file, "--group", GROUP, "--dry-run")
    assert status == 0
    assert "Dette vil bli gjort i Faggruppe for klima:" in out and "Dette ble gjort" not in out
    assert "Nytt møte tirsdag 20. januar 2026" in out
    status, out, _ = _run(capsys, file, "--group", GROUP, "--dry-run", "--locale", "en")
    assert status == 0 and "New meeting Tuesday 20 January 2026" in out  # the dry run stored nothing

    status, out, _ = _run(capsys, file, "--group", GROUP)
    assert status == 0
    assert out.index("Dette vil bli gjort") < out.index("Dette ble gjort i Faggruppe for klima:")
    assert "Nye i deltakerlisten (3)" in out and "Ikke i innkallingen, beholdes (1): Tove Lund" in out

    status, out, _ = _run(capsys, file, "--group", GROUP)
    assert status == 0 and "Ingenting å endre: alt er allerede importert." in out


def test_docx(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, str(workdir / "innkalling.docx"), "--group", GROUP, "--locale", "en")
    assert status == 0
    assert "Agenda items (4):" in out and "  - 2. Arealplan for Vestfold by Eirik Solberg" in out


def test_unreadable_parts_exit_1_and_store_nothing(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _run(capsys, str(workdir / "uten-dato.md"), "--group", GROUP)
    assert status == 1 and out == ""
    assert err.splitlines() == [
        "Dette kunne jeg ikke lese, så ingenting blir importert:",
        "  - fant ingen møtedato (skriv for eksempel «Tid: 20.01.2026, kl. 10.00–12.00»)",
        "  - linje 4: saken «Sak tre: Budsjett» har ikke noe nummer jeg kan lese",
    ]
    status, out, _ = _run(capsys, str(workdir / "innkalling.txt"), "--group", GROUP, "--dry-run")
    assert status == 0 and "Nytt møte" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["innkalling.txt", "--group", "Finnes ikke"], "no group is named 'Finnes ikke'"),
        (["innkalling.pdf", "--group", GROUP], "innkalling.pdf: not an invitation file"),
        (["mangler.txt", "--group", GROUP], "cannot read"),
    ],
)
def test_usage_errors_exit_2(
    workdir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    status, _, err = _run(capsys, str(workdir / args[0]), *args[1:])
    assert status == 2 and message in err


def test_missing_group_option_is_a_usage_error(workdir: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["innkalling", "import", str(workdir / "innkalling.txt")])
    assert exc.value.code == 2
