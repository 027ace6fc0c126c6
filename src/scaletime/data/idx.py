"""Reader for the IDX format of MNIST and Fashion-MNIST (LeCun et al.).

Layout: two zero bytes, a type code (``0x08`` = unsigned byte), ``ndim`` (byte 3), then ``ndim``
big-endian ``uint32`` dimensions, then the data in C order. Files may be gzip-compressed.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

# IDX type code -> numpy big-endian dtype
_IDX_DTYPES: dict[int, str] = {
    0x08: "u1",
    0x09: "i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}


def parse_idx(buffer: bytes, *, what: str = "IDX data") -> np.ndarray:
    """Decode the bytes of one (uncompressed) IDX file into an array of its stored shape.

    Parameters
    ----------
    buffer : bytes
        The file's contents.
    what : str
        A name for error messages (usually the file path).

    Returns
    -------
    numpy.ndarray
        Native-endian array of shape ``(d_1, ..., d_ndim)``.
    """
    if len(buffer) < 4 or buffer[0] != 0 or buffer[1] != 0:
        raise ValueError(
            f"{what}: not an IDX file (the magic number must start with two zero bytes)"
        )
    type_code, ndim = buffer[2], buffer[3]
    if type_code not in _IDX_DTYPES:
        raise ValueError(
            f"{what}: unknown IDX type code 0x{type_code:02x}; "
            f"known codes are {', '.join(f'0x{c:02x}' for c in _IDX_DTYPES)}"
        )
    header_end = 4 + 4 * ndim
    if len(buffer) < header_end:
        raise ValueError(f"{what}: truncated header ({len(buffer)} bytes for {ndim} dimensions)")
    dims = tuple(int(d) for d in np.frombuffer(buffer, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[type_code])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(buffer) - header_end != expected:
        raise ValueError(
            f"{what}: header says shape {dims} ({expected} data bytes) but the file holds "
            f"{len(buffer) - header_end} data bytes"
        )
    data = np.frombuffer(buffer, dtype=dtype, offset=header_end).reshape(dims)
    return data.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (plain or ``.gz``) from disk; see :func:`parse_idx`."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":  # gzip magic, whatever the file is called
        raw = gzip.decompress(raw)
    return parse_idx(raw, what=str(path))
