"""The machine-readable claim line every papers/ script prints, and run_all.py's reader of it.

Each script prints, per headline number it reproduces, one line

    @@claim {"what": ..., "published": ..., "ours": ..., "reference": ...}

"published" is the paper's own number or statement as the script quotes it, "ours" the value
computed in this run (a string, as printed). run_all.py collects these lines to write the
"Published and ours" table of papers/README.md, so that table is never written by hand.
"""

import json

PREFIX = "@@claim "
FIELDS = ("what", "published", "ours", "reference")


def claim(what, published, ours, reference):
    """Print one claim line (JSON after ``@@claim ``); every field becomes a string."""
    record = {key: str(value) for key, value in zip(FIELDS, (what, published, ours, reference))}
    print(PREFIX + json.dumps(record, ensure_ascii=False), flush=True)


def parse_claims(stdout):
    """The claims (dicts with FIELDS) on ``stdout``'s claim lines, in order; other lines are ignored.
    A malformed claim line raises ValueError (a script's claim must not vanish silently)."""
    claims = []
    for line in stdout.splitlines():
        if not line.startswith(PREFIX):
            continue
        try:
            record = json.loads(line[len(PREFIX):])
        except json.JSONDecodeError as error:
            raise ValueError(f"malformed claim line {line!r}: {error}") from None
        if not isinstance(record, dict) or set(record) != set(FIELDS):
            raise ValueError(f"claim line {line!r} must have exactly the fields {', '.join(FIELDS)}")
        claims.append({key: str(record[key]) for key in FIELDS})
    return claims
