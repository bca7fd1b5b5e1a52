"""Reads a fedicensus snapshots export back with an independent reader (Python's csv
and json modules; pyarrow for Parquet) and prints one JSON object: the row count, the
sums and null counts of the numeric columns, the distinct sources, and for Parquet
the column types.

usage: readback.py csv|jsonl|parquet PATH
"""
import csv
import json
import sys

NUMBERS = ["users_total", "active_month", "active_halfyear", "local_posts", "registrations_week"]


def records(fmt, path):
    if fmt == "csv":
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                yield {k: (None if v == "" else v) for k, v in row.items()}
    elif fmt == "jsonl":
        with open(path) as f:
            for line in f:
                yield json.loads(line)
    else:
        import pyarrow.dataset as ds

        for row in ds.dataset(path, format="parquet", partitioning="hive").to_table().to_pylist():
            yield row


def main():
    fmt, path = sys.argv[1:3]
    out = {"rows": 0, "sums": {n: 0 for n in NUMBERS}, "nulls": {n: 0 for n in NUMBERS},
           "sources": set(), "languages": 0}
    for row in records(fmt, path):
        out["rows"] += 1
        for n in NUMBERS:
            if row.get(n) is None:
                out["nulls"][n] += 1
            else:
                out["sums"][n] += int(row[n])
        out["sources"].add(row["source"])
        if row.get("languages"):
            out["languages"] += 1
    out["sources"] = sorted(out["sources"])
    if fmt == "parquet":
        import pyarrow.dataset as ds

        schema = ds.dataset(path, format="parquet", partitioning="hive").schema
        out["types"] = {f.name: str(f.type) for f in schema}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
