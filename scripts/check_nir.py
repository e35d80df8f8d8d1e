#!/usr/bin/env python3
"""Check every NIR of a beneficiary CSV file (docs/formats.md) with an independent validator.

Usage: scripts/check_nir.py FILE.csv

Each NIR is validated by `stdnum.fr.nir` (PyPI package python-stdnum: `pip install
python-stdnum`), and its sex digit (1 or 2), birth year (YY) and birth month (MM) are checked
against the row's birth_date. Failures are reported by line number only (a NIR is personal
data, even a synthetic one). Exit status: 0 when every row is valid, 1 otherwise, 2 on bad
usage or an unreadable file.
"""

import csv
import sys

try:
    from stdnum.fr import nir as stdnum_nir
except ImportError:  # pragma: no cover - depends on the environment
    print("check_nir.py: python-stdnum is missing (pip install python-stdnum)", file=sys.stderr)
    sys.exit(2)

EXPECTED_HEADER = [
    "member_number", "nir", "birth_rank", "last_name", "first_name", "birth_date",
    "marital_status", "quality", "contract_code", "valid_from", "valid_to",
]
MAX_LISTED = 50


def problem(row):
    """Why this row's NIR is wrong, or None."""
    value = row["nir"]
    if not stdnum_nir.is_valid(value):
        return "invalid NIR (stdnum.fr.nir)"
    value = stdnum_nir.compact(value)
    if value[0] not in "12":
        return "sex digit is not 1 or 2"
    birth = row["birth_date"]
    if len(birth) != 10 or birth[4] != "-" or birth[7] != "-":
        return "birth_date is not YYYY-MM-DD"
    if value[1:3] != birth[2:4]:
        return "birth year does not match birth_date"
    if value[3:5] != birth[5:7]:
        return "birth month does not match birth_date"
    department = value[5:7]
    year = int(birth[:4])
    if department in ("2A", "2B") and year < 1976:
        return "Corsica is 2A/2B only for births from 1976"
    if department == "20" and year >= 1976:
        return "Corsica is 20 only for births before 1976"
    return None


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    path = argv[1]
    try:
        handle = open(path, newline="", encoding="utf-8")
    except OSError as e:
        print(f"check_nir.py: cannot open {path}: {e.strerror}", file=sys.stderr)
        return 2
    checked = 0
    failures = []
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != EXPECTED_HEADER:
            print("check_nir.py: line 1: unexpected header", file=sys.stderr)
            return 1
        for record in reader:
            line = reader.line_num
            checked += 1
            if len(record) != len(EXPECTED_HEADER):
                failures.append((line, "wrong number of columns"))
                continue
            why = problem(dict(zip(EXPECTED_HEADER, record)))
            if why:
                failures.append((line, why))
    for line, why in failures[:MAX_LISTED]:
        print(f"line {line}: {why}", file=sys.stderr)
    if len(failures) > MAX_LISTED:
        print(f"... and {len(failures) - MAX_LISTED} more", file=sys.stderr)
    print(f"{checked} rows checked, {len(failures)} invalid")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
