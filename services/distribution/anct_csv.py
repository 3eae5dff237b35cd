"""Reads the ANCT "Liste des structures France services" CSV into counter.upserted payloads.

Each row is loaded with the counter.upserted schema, so the import refuses exactly what the
consumer dead-letters: a commune unknown to INSEE's COG, or, for a fixed counter, not in the row's
`insee_dep` (reported with the line and the code). `format_fs` becomes the event's `format`
(ANCT_FORMATS; an empty or missing column means fixe, an unknown label refuses the row): a mobile
counter may be based outside the département it serves, as line 1452 of the 2024-08-01 file,
a bus of the Eure (27) based in Rouen (76540)."""
import csv
import io

from marshmallow import ValidationError

from spc.shared.events import payload_schema

REQUIRED_COLUMNS = {"id_fs", "insee_dep", "lib_fs", "adresse", "insee_com", "latitude", "longitude"}


ANCT_FORMATS = {"Fixe": "fixe", "Fixe_antenne(s)": "fixe_antennes", "Multisites": "multisites",
                "Bus_équivalent": "bus", "Itinérante": "itinerante"}  # the labels of the 2024-08-01 file


class CsvFormatError(ValueError):
    pass


def _float(text):
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def read_counters(stream):
    """Returns (counters, problems): valid counter dicts, and (line, reason) for the others."""
    reader = csv.DictReader(stream)
    missing = REQUIRED_COLUMNS - set(reader.fieldnames or ())
    if missing:
        raise CsvFormatError(f"not the ANCT France Services format: missing columns {sorted(missing)}")
    schema = payload_schema("counter.upserted")
    counters, problems = [], []
    for row in reader:
        address = " ".join(x.strip() for x in (row.get("adresse"), row.get("complement_adresse"),
                                                 row.get("code_postal"), row.get("lib_com")) if x)
        candidate = {"counter_id": (row.get("id_fs") or "").strip(), "name": (row.get("lib_fs") or "").strip(),
                     "commune_insee": (row.get("insee_com") or "").strip(),
                     "department": (row.get("insee_dep") or "").strip(), "address": address[:500],
                     "lat": _float(row.get("latitude")), "lon": _float(row.get("longitude"))}
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
