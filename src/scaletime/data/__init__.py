"""scaletime.data: dataset registry, loaders, cache, balanced subsets, label noise, normalisation.

>>> ds = load_dataset("mnist")                       # doctest: +SKIP
>>> idx = balanced_subset(ds.y_train, 1000, seed=0)  # doctest: +SKIP

See ``docs/datasets.md`` for each dataset's source, shapes and the subset/noise semantics.
"""

from scaletime.data.dataset import Dataset, DatasetInfo, array_sha256
from scaletime.data.registry import (
    DATASET_NAMES,
    cache_path,
    canonical_name,
    data_dir,
    fetch,
    list_datasets,
    load_dataset,
)
from scaletime.data.transforms import (
    apply_label_noise,
    balanced_subset,
    normalize,
    subset_and_noise,
)
from scaletime.errors import DatasetNotAvailable, ScaletimeError, UnknownDatasetError

__all__ = [
    "DATASET_NAMES",
    "Dataset",
    "DatasetInfo",
    "DatasetNotAvailable",
    "ScaletimeError",
    "UnknownDatasetError",
    "apply_label_noise",
    "array_sha256",
    "balanced_subset",
    "cache_path",
    "canonical_name",
    "data_dir",
    "fetch",
    "list_datasets",
    "load_dataset",
    "normalize",
    "subset_and_noise",
]
