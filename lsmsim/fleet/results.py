"""The results file: one JSON record per line, appended as pairs finish, so a rerun
resumes where the last one stopped."""
from __future__ import annotations

import json
from pathlib import Path


def done_records(path: str | Path) -> dict[str, dict]:
    """The records already in the results file, by pair id (none if it does not
    exist). A last line cut short by an interruption is ignored, so its pair reruns."""
    path = Path(path)
    if not path.exists():
        return {}
    records = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and "id" in record:
            records[record["id"]] = record
    return records


class ResultsWriter:
    """Appends records, one line each, flushed as they arrive."""

    def __init__(self, path: str | Path):
        path = Path(path)
        if path.exists():
            # Drop a last line cut short by an interruption: its pair runs again.
            data = path.read_bytes()
            if data and not data.endswith(b"\n"):
                path.write_bytes(data[:data.rfind(b"\n") + 1])
        self._handle = open(path, "a", encoding="utf-8")

    def write(self, record: dict) -> None:
        self._handle.write(json.dumps(record, sort_keys=True) + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> "ResultsWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
