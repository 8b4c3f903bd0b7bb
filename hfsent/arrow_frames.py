"""Length-prefixed frames over a byte stream (a pipe), and one Arrow column as a frame's payload:
what :mod:`hfsent.tokenize_child` sends between the training process and its tokenizing children.

A frame is an 8-byte little-endian unsigned length, then that many bytes of payload.  A payload
from :func:`to_ipc` is an Arrow IPC stream of one record batch with one named column; Arrow
reads it back in place (:func:`column_of`), with no Python object per value.

Limits: both ends are this package's own processes, so a frame's size is trusted (no cap) and
the whole payload is held in memory; a stream that ends at or inside a frame reads as its end
(``None``), which the caller reports; nothing here times out.  The stream is a blocking binary
file object (a pipe's, say), whose ``write`` takes all it is given.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

import pyarrow as pa

_LENGTH = struct.Struct("<Q")  # a frame's header: the payload's size in bytes
Bytes = bytes | bytearray | memoryview | pa.Buffer  # what a file object's write() accepts


def write_frame(stream: BinaryIO, *parts: Bytes) -> None:
    """One frame whose payload is ``parts`` one after another, then one flush.  The parts go to
    the stream as they are: no joined copy of a payload that may be megabytes.

    Example:
        >>> out = io.BytesIO(); write_frame(out, b"T", b"ok"); out.getvalue()
        b'\\x03\\x00\\x00\\x00\\x00\\x00\\x00\\x00Tok'
    """
    stream.write(_LENGTH.pack(sum(memoryview(part).nbytes for part in parts)))
    for part in parts:
        stream.write(part)
    stream.flush()


def read_frame(stream: BinaryIO) -> bytes | None:
    """One frame's payload, or None at the end of the stream (or in the middle of a frame)."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(head)
    payload = stream.read(size)
    if len(payload) < size:
        return None
    return payload


def to_ipc(column: str, array: pa.Array) -> pa.Buffer:
    """``array`` as an Arrow IPC stream of one column named ``column``: Arrow's own buffer."""
    batch = pa.record_batch([array], names=[column])
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue()


def column_of(payload: Bytes, column: str) -> pa.Array:
    """The column ``column`` of an IPC stream made by :func:`to_ipc`; a memoryview of a frame
    (its type byte skipped, say) is read in place, without a copy."""
    return pa.ipc.open_stream(payload).read_all().column(column).combine_chunks()
