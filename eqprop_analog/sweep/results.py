"""The results table of a sweep: one row per finished (or failed) run, rewritten atomically after
every run so that a killed sweep loses nothing it has finished."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from eqprop_analog.errors import DataError
from eqprop_analog.files import atomic_write_text, read_user_csv

METRICS = ("test_accuracy", "best_test_accuracy", "train_accuracy", "test_loss", "train_loss",
           "epochs", "seconds")
# what a run costs in the circuit (W, J), from its summary: the mean power an inference draws, a
# step's phases and programming in the last epoch, and all of training; empty where not recorded
ENERGY_METRICS = ("static_power_w", "step_free_phase_j", "step_nudged_phases_j",
                  "step_programming_j", "training_energy_j")


class ResultsTable:
    """A tidy CSV table: run_id, status (ok or failed), the swept options, seed, the metrics of the
    run and its error (empty when it succeeded)."""

    def __init__(self, path: str | Path, swept: tuple[str, ...]) -> None:
        self.path = Path(path)
        self.columns = ("run_id", "status", *swept, "seed", *METRICS, *ENERGY_METRICS, "error")
        self.rows: list[dict] = []
        if self.path.exists():
            columns, self.rows = read_table(self.path)
            # a table from before the energy columns goes on in the new layout, its rows empty there
            before_energy = ("run_id", "status", *swept, "seed", *METRICS, "error")
            if tuple(columns) not in (self.columns, before_energy):
                raise DataError(f"{self.path} holds the results of another sweep (columns "
                                f"{', '.join(columns)}); give this sweep another --out")

    def done(self) -> set[str]:
        """Run ids already recorded, succeeded or failed."""
        return {row["run_id"] for row in self.rows}

    def drop_failed(self) -> int:
        """Forget the failed runs, so that they run again; return how many there were."""
        kept = [row for row in self.rows if row["status"] == "ok"]
        dropped, self.rows = len(self.rows) - len(kept), kept
        if dropped:
            self._write()
        return dropped

    def append(self, row: dict) -> None:
        self.rows.append({k: row.get(k, "") for k in self.columns})
        self._write()

    def _write(self) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns, lineterminator="\n",
                                extrasaction="ignore", restval="")
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write_text(self.path, buffer.getvalue())


def read_table(path: Path) -> tuple[list[str], list[dict]]:
    """The columns and rows of a results table, or a DataError saying why it cannot be read."""
    columns, rows = read_user_csv(path, "results table")
    if "run_id" not in columns or "status" not in columns or "seed" not in columns:
        raise DataError(f"{path} is not a sweep results table (no run_id, status and seed "
                        "columns)")
    return columns, rows
