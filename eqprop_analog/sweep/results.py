"""The results table of a sweep: one row per finished (or failed) run, rewritten atomically after
every run so that a killed sweep loses nothing it has finished."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from eqprop_analog.files import atomic_write_text

METRICS = ("test_accuracy", "best_test_accuracy", "train_accuracy", "test_loss", "train_loss",
           "epochs", "seconds")


class ResultsTable:
    """A tidy CSV table: run_id, status (ok or failed), the swept options, seed, the metrics of the
    run and its error (empty when it succeeded)."""

    def __init__(self, path: str | Path, swept: tuple[str, ...]) -> None:
        self.path = Path(path)
        self.columns = ("run_id", "status", *swept, "seed", *METRICS, "error")
        self.rows: list[dict] = []
        if self.path.exists():
            with open(self.path, newline="") as fh:
                self.rows = list(csv.DictReader(fh))

    def done(self) -> set[str]:
        """Run ids already recorded, succeeded or failed."""
        return {row["run_id"] for row in self.rows}

    def append(self, row: dict) -> None:
        self.rows.append({k: row.get(k, "") for k in self.columns})
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns, lineterminator="\n",
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write_text(self.path, buffer.getvalue())
