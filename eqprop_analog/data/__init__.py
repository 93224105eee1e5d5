"""Datasets available offline."""

from eqprop_analog.data.datasets import DATASET_NAMES, Dataset, load_dataset

__all__ = ["DATASET_NAMES", "Dataset", "load_dataset"]
