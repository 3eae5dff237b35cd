"""Reads the ANCT "Liste des structures France services" CSV into counter.upserted payloads.

Each row is loaded with the counter.upserted schema, so the import refuses exactly what the
consumer dead-letters: a commune unknown to INSEE's COG, or, for a fixed counter, not in the row's
`insee_dep` (reported with the line and the code). `format_fs` becomes the event's `format`
(ANCT_FORMATS; an empty or missing column means fixe, an unknown label refuses the row): a mobile
counter may be based outside the département it serves, as line 1452 of the 2024-08-01 file,
a bus of the Eure (27) based in Rouen (76540).

The rest of the record is kept too (counter.upserted 1.1): `type_fs` as `type` (principal,
antenne), `mail` as `email`, `telephone` as `phone`, `h_lundi` … `h_samedi` as `hours` (a day's
"09:00 - 12:00 / 13:30 - 17:00" becomes ["09:00-12:00", "13:30-17:00"]; an empty day is closed;
no day at all, unknown) and `commentaire` as `note`. Some fields hold newlines (an address, a
remark): every text is put on one line. `code_postal` and `lib_com` are in the address already;
`prise_rdv`, `groupe_fs` and `labellisation_fs` are not kept."""

import csv
import io
import re

from marshmallow import ValidationError

from spc.shared.core.events import payload_schema

REQUIRED_COLUMNS = {"id_fs", "insee_dep", "lib_fs", "adresse", "insee_com", "latitude", "longitude"}


ANCT_FORMATS = {
    "Fixe": "fixe",
    "Fixe_antenne(s)": "fixe_antennes",
    "Multisites": "multisites",
    "Bus_équivalent": "bus",
    "Itinérante": "itinerante",
}  # the labels of the 2024-08-01 file


ANCT_TYPES = {"Principal": "principal", "Antenne": "antenne"}
ANCT_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi")  # columns h_<day>
_SLOT = re.compile(r"(\d{1,2})[:h](\d{2})\s*-\s*(\d{1,2})[:h](\d{2})")


class CsvFormatError(ValueError):
    pass


def _float(text):
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def _line(text):
    """A text on one line (the file has fields with newlines), or None when empty."""
    return " ".join((text or "").split()) or None


def _hours(row):
    """{day: ["HH:MM-HH:MM", ...]} of the days the counter opens; None when no day is given. A slot
    the file writes otherwise than "HH:MM - HH:MM" is left out (the schema would refuse it)."""
    hours = {}
    for day in ANCT_DAYS:
        slots = [f"{int(a):02d}:{b}-{int(c):02d}:{d}" for a, b, c, d in _SLOT.findall(row.get(f"h_{day}") or "")]
        if slots:
            hours[day] = slots[:6]
    return hours or None


def _details(row):
    """The record beyond the place: type, e-mail, phone, hours, remark (absent when empty)."""
    details = {
        "type": ANCT_TYPES.get(_line(row.get("type_fs")), _line(row.get("type_fs"))),
        "email": _line(row.get("mail")),
        "phone": _line(row.get("telephone")),
        "hours": _hours(row),
        "note": (_line(row.get("commentaire")) or "")[:500] or None,
    }
    return {k: v for k, v in details.items() if v is not None}


def read_counters(stream):
    """Returns (counters, problems): valid counter dicts, and (line, reason) for the others."""
    reader = csv.DictReader(stream)
    missing = REQUIRED_COLUMNS - set(reader.fieldnames or ())
    if missing:
        raise CsvFormatError(f"not the ANCT France Services format: missing columns {sorted(missing)}")
    schema = payload_schema("counter.upserted")
    counters, problems = [], []
    for row in reader:
        address = " ".join(
            filter(
                None, map(_line, (row.get("adresse"), row.get("complement_adresse"), row.get("code_postal"), row.get("lib_com")))
            )
        )
        candidate = {
            "counter_id": (row.get("id_fs") or "").strip(),
            "name": (row.get("lib_fs") or "").strip(),
            "commune_insee": (row.get("insee_com") or "").strip(),
            "department": (row.get("insee_dep") or "").strip(),
            "address": address[:500],
            "lat": _float(row.get("latitude")),
            "lon": _float(row.get("longitude")),
            **_details(row),
        }
        label = (row.get("format_fs") or "").strip()
        if label:
            candidate["format"] = ANCT_FORMATS.get(label, label)
        try:
            counters.append(schema.dump(schema.load(candidate)))
        except ValidationError as exc:
            problems.append((reader.line_num, exc.messages))
    return counters, problems


def read_counters_file(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return read_counters(handle)


def read_counters_text(text):
    return read_counters(io.StringIO(text))
