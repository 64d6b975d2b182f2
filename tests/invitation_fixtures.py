"""Invitations written for the import tests, in several layouts. The people are fictional."""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document

# Plain text, "Sak N" items, a long-form date and "kl. 10.00-12.00".
TXT_SAK = """Innkalling til møte i faggruppe for klima og miljø

Tid: tirsdag 20. januar 2026, kl. 10.00-12.00
Sted: Drammen rådhus, møterom Elva
Teams-møte: https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc/0
Sakspapirer: https://example.org/klima/2026-01-20

Sakskart

Sak 1 Godkjenning av innkalling og dagsorden
Sak 2 Godkjenning av referat fra møtet 25.11.2025
Sak 3: Klimabudsjett 2026 v/ Kari Fjellheim
    Status for kommunenes klimabudsjett.
Sak 4 Orientering om regional transportplan
    Innleder: Per Olav Bakken
Sak 5 Runde rundt bordet
    Spørsmål: Hva er kommunens viktigste klimatiltak i 2026?
Sak 6 Eventuelt

Arbeidsgrupper
Gruppe 1 – Klimabudsjett (ansvarlig: Kari Fjellheim)
Gruppe 2 – Transport
Ansvarleg: Per Olav Bakken

Inviterte
Fornavn;Etternavn;Organisasjon;E-post
Kari;Fjellheim;Drammen kommune;kari.fjellheim@example.org
Per Olav;Bakken;Lier kommune;
Sigrid;Nordvik;Asker kommune;sigrid.nordvik@example.org
"""

# Markdown like the house format: a letter naming "Sak 3" in passing, three agendas (a common
# part and two groups'), items as bullets and headings, misspelt "Ansvarelig", a tab roster.
MD_HOUSE = """Dato: 02.12.2025

**Saksbehandler:**
Tone Eksempel

Til faggruppene for kultur og samferdsel

**Tid:** 15.01.2026, kl 09:00-12:30

**Sted:** Teams

- Fellesdel: [lenke til møtet](https://teams.microsoft.com/l/meetup-join/felles)
- Kultur: [lenke til møtet](https://teams.microsoft.com/l/meetup-join/kultur)

Sakspapirer kan lastes ned her: <https://example.org/faggrupper/15-januar/>

**Sak 3. Handlingsprogram 2026.** Vi ber dere forberede innspill til handlingsprogrammet.

Med vennlig hilsen
Tone Eksempel

## **Sakskart til felles møte 15. januar**

**Kl. 09:00-09:30**

- 1. Godkjenning av innkalling og dagsorden**
- 2. Ny møteform**

## **Sakskart til møte i faggruppe for Kultur**

**Kl. 09:40-12:30**

- 1. Godkjenning av innkalling og dagsorden**
- 2. Godkjenning av referat fra møte 6. november 2025**
- 3. Handlingsprogram 2026**
  - Kulturarv
  - Frivillighet

**Det foreslås to arbeidsgrupper:**

*Gruppe 1 - Kulturarv og museer*
Ansvarelig: Ingrid Haugland

*Gruppe 2 - Frivillighet*
Ansvarlig: Magnus Vik

#### 4. Runde rundt bordet: Hva skjer i kommunene i 2026

#### 5. Orienteringer

- *Ny kulturplan v/ Ingrid Haugland, Hamar kommune*

#### 6. Eventuelt

## **Sakskart til møte i faggruppe for Samferdsel**

- 1. Godkjenning av innkalling og dagsorden**
- 2. Buss i regionen**

## Inviterte

Fornavn\tEtternavn\tOrganisasjon
Ingrid\tHaugland\tHamar kommune
Magnus\tVik\tRingsaker kommune

Lene\tStrand\tStange kommune
"""


def docx_bytes(*, agenda_in_table: bool = False) -> bytes:
    """A Word invitation: agenda as a numbered list (numbers only in w:numPr), or in a table
    ("Sak | Tittel | Innleder"); the roster in a table with e-mail."""
    document = Document()
    document.add_heading("Innkalling til møte i faggruppe for plan", level=1)
    document.add_paragraph("Tid: 20.01.2026 kl 10-12")
    document.add_paragraph("Sted: Fylkeshuset, sal 2")
    document.add_heading("Dagsorden", level=2)
    if agenda_in_table:
        table = document.add_table(rows=1, cols=3)
        for cell, text in zip(table.rows[0].cells, ["Sak", "Tittel", "Innleder"], strict=True):
            cell.text = text
        rows = [
            ("1", "Godkjenning av innkalling", ""),
            ("2", "Arealplan for Vestfold", "Eirik Solberg"),
            ("3", "Runde rundt bordet – Hva planlegger dere i år?", ""),
            ("4", "Eventuelt", ""),
        ]
        for row in rows:
            for cell, text in zip(table.add_row().cells, row, strict=True):
                cell.text = text
    else:
        document.add_paragraph("Godkjenning av innkalling", style="List Number")
        document.add_paragraph("Arealplan for Vestfold v/ Eirik Solberg", style="List Number")
        document.add_paragraph("Bakgrunn og tidsplan", style="List Bullet 2")
        document.add_paragraph("Runde rundt bordet – Hva planlegger dere i år?", style="List Number")
        document.add_paragraph("Eventuelt", style="List Number")
    document.add_heading("Inviterte", level=2)
    roster = document.add_table(rows=1, cols=4)
    for cell, text in zip(
        roster.rows[0].cells, ["Fornavn", "Etternavn", "Organisasjon", "E-post"], strict=True
    ):
        cell.text = text
    for row in [
        ("Eirik", "Solberg", "Tønsberg kommune", "eirik.solberg@example.org"),
        ("Hanne", "Moe", "Sandefjord kommune", ""),
    ]:
        for cell, text in zip(roster.add_row().cells, row, strict=True):
            cell.text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def shared_example() -> Path | None:
    """The shared example invitation beside the repository (../shared), when it is there."""
    root = Path(__file__).resolve().parents[1]
    path = root.parent / "shared" / "examples" / "innkalling-2025-01-16.txt"
    return path if path.is_file() else None
