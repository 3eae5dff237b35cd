"""Open data (issue 13, docs/open-data.md): SPC's records as files anyone may publish and check.
`registry`: the services holding a pact as CSV with its Table Schema (a frictionless Data
Package); `grants`: the grants in the SCDL "Subventions" format. Each reads a service's database
through its unit of work, read-only, in one transaction; the caller (`spc export`) opens the
databases and the files (`opener(path)`: a text file replaced only once complete)."""

import csv

LICENCE = {
    "name": "etalab-2.0",
    "title": "Licence Ouverte / Open Licence version 2.0",
    "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
}


def write_csv(opener, path, header, rows):
    """`rows` (dicts keyed by `header`) as UTF-8 CSV, comma-separated, quoted where needed;
    returns how many were written."""
    count = 0
    with opener(path) as f:
        writer = csv.DictWriter(f, header, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def wire_moment(moment):
    """A stored UTC moment (naive) as `2026-11-20T10:00:00Z`, or '' when there is none."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""
