"""Shared private helpers of the readers: decoding, delimited tables, line numbers, timestamps.

Every reader goes through these so that the three promises of ``sobriete.io`` hold in one
place: only ``InputError`` subclasses escape, each error names the 1-based line of the *file*
(header lines counted), and data rows are never looped over in Python (pyarrow does the work).
"""

from __future__ import annotations

import gzip
import os
import re
import threading
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from sobriete.domain import columns as C
from sobriete.domain.errors import FormatError, InputError, ValueRangeError
from sobriete.io.base import sha256_of

Source = str | Path | bytes | bytearray | memoryview

_GZIP_MAGIC = b"\x1f\x8b"


# The typed fast path (bytes -> typed Arrow columns) falls back to the string path, whose
# errors are the reference, whenever anything looks unusual. Tests switch it off to compare.
FAST_PATH = True
_PARALLEL_MIN_BYTES = 16 << 20  # below this one CSV reader is as fast as several
_BLOCK = 1 << 24
_UTF8_BOM = b"\xef\xbb\xbf"
# A byte that is surely not whitespace once decoded (ASCII only; str.isspace counts \x1c-\x1f).
_NOT_BLANK = re.compile(rb"[^ \t\n\r\x0b\x0c\x1c-\x1f\x80-\xff]")
_LEADING_NL = re.compile(rb"\n*")


class Retry(Exception):  # noqa: N818 - a signal, never seen outside this package
    """The typed fast path met something unusual: the caller re-reads with the string path."""


class _Digest:
    """sha256 of a large buffer computed in a thread (hashlib releases the GIL)."""

    def __init__(self, data: bytes) -> None:
        self._value: str | None = None
        self._thread = threading.Thread(target=self._run, args=(data,), daemon=True)
        self._thread.start()

    def _run(self, data: bytes) -> None:
        self._value = sha256_of(data)

    def result(self) -> str:
        self._thread.join()
        assert self._value is not None
        return self._value


class RawText:
    """A loaded file: UTF-8 with ``\\n`` line ends and no BOM, plus provenance.

    Large UTF-8 files stay as bytes (``data`` from ``start``) and are handed to Arrow as they
    are; ``text`` is decoded only when a reader asks for it. Files that needed a fallback
    encoding, UTF-16 or had a NUL byte keep the decoded ``text`` as before.
    """

    def __init__(self, label: str, sha256: str | _Digest, encoding: str,
                 warnings: list[str] | None = None, *, text: str | None = None,
                 data: bytes | None = None, start: int = 0) -> None:
        self.label = label
        self._sha = sha256
        self.encoding = encoding
        self.warnings = warnings if warnings is not None else []
        self._text = text
        self.data = data
        self.start = start

    @property
    def sha256(self) -> str:
        if isinstance(self._sha, _Digest):
            self._sha = self._sha.result()
        return self._sha

    @property
    def text(self) -> str:
        if self._text is None:
            if self.data is None:
                raise RuntimeError("RawText released")
            self._text = bytes(memoryview(self.data)[self.start:]).decode("utf-8")
        return self._text

    def _bytes(self) -> tuple[bytes, int]:
        if self.data is None:
            self.data, self.start = self.text.encode("utf-8"), 0
        return self.data, self.start

    def head(self, n: int) -> list[str]:
        """The first ``n`` lines (fewer if the file is shorter), like ``head_lines``."""
        if self._text is not None:
            return head_lines(self._text, n)
        data, pos = self._bytes()
        out = []
        for _ in range(n):
            j = data.find(b"\n", pos)
            if j < 0:
                out.append(data[pos:].decode("utf-8"))
                break
            out.append(data[pos:j].decode("utf-8"))
            pos = j + 1
        return out

    def body(self, n_lines: int) -> tuple[bytes, int]:
        """(bytes, offset) of the body after the first ``n_lines`` lines (UTF-8)."""
        data, pos = self._bytes()
        for _ in range(n_lines):
            j = data.find(b"\n", pos)
            if j < 0:
                return data, len(data)
            pos = j + 1
        return data, pos

    def release(self) -> None:
        """Drop the file's content (provenance and warnings stay)."""
        self.data = None
        self._text = None


def load_bytes(
    source: Source, *, name: str | None = None, _lazy_digest: bool = False
) -> tuple[bytes, str, str]:
    """Return (plain bytes, label, sha256 of the bytes as given); gunzips transparently."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        label = name or "<bytes>"
    else:
        label = name or str(source)
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc.strerror or exc}", file=label) from None
    digest = _Digest(data) if _lazy_digest and len(data) > (1 << 20) else sha256_of(data)
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise FormatError(
                f"corrupt gzip file: {exc}", file=label, expected="a complete gzip stream"
            ) from None
    return data, label, digest


def decode(
    data: bytes, label: str, *, fallback: str | None = None
) -> tuple[str, str, list[str]]:
    """UTF-8 (BOM stripped; UTF-16 when it has a BOM), else ``fallback`` if the format allows it.

    French spreadsheet exports are often cp1252; a reader passes ``fallback="cp1252"`` only
    where that is documented, otherwise undecodable bytes are a FormatError naming the line.
    """
    warnings: list[str] = []
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16"), "utf-16", warnings
        except UnicodeDecodeError as exc:
            raise FormatError(
                "invalid UTF-16 text", file=label, expected="UTF-16 text",
                found=repr(exc.object[exc.start:exc.start + 4]),
            ) from None
    try:
        text = data.decode("utf-8-sig")
        encoding = "utf-8"
    except UnicodeDecodeError as exc:
        if fallback is None:
            line = data.count(b"\n", 0, exc.start) + 1
            raise FormatError(
                "the file is not valid UTF-8", file=label, line=line,
                expected="UTF-8 text", found=repr(data[exc.start:exc.start + 4]),
            ) from None
        text = data.decode(fallback, errors="replace")
        encoding = fallback
        warnings.append(f"{label}: not UTF-8, decoded as {fallback}")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise FormatError("NUL byte in a text file", file=label, line=line,
                          expected="text", found="\\x00")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, encoding, warnings


def load_text(source: Source, *, name: str | None = None, fallback: str | None = None) -> RawText:
    data, label, digest = load_bytes(source, name=name, _lazy_digest=True)
    raw = _plain_utf8(data, label, digest)
    if raw is not None:
        return raw
    text, encoding, warnings = decode(data, label, fallback=fallback)
    if not text.strip():
        raise FormatError("the file is empty", file=label, expected="data")
    return RawText(label, digest, encoding, warnings, text=text)


def _is_utf8(data: bytes) -> bool:
    """Valid UTF-8, checked by Arrow on the buffer in place (no decoded copy)."""
    if data.isascii():
        return True
    offsets = pa.array([0, len(data)], pa.int64()).buffers()[1]
    arr = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _plain_utf8(data: bytes, label: str, digest) -> RawText | None:
    """The common case kept as bytes: UTF-8 (BOM ok), no NUL, not blank. Else None.

    ``None`` sends the file through ``decode``, which owns every error and fallback message.
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data or not _is_utf8(data):
        return None
    start = 3 if data[:3] == _UTF8_BOM else 0
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if not _NOT_BLANK.search(data, start, start + 65536):
        return None
    return RawText(label, digest, "utf-8", [], data=data, start=start)


def head_lines(text: str, n: int) -> list[str]:
    """The first ``n`` lines (fewer if the file is shorter)."""
    return text.split("\n", n)[:n]


def body_after(text: str, n_lines: int) -> str:
    """The text after the first ``n_lines`` lines."""
    parts = text.split("\n", n_lines)
    return parts[n_lines] if len(parts) > n_lines else ""


def split_header(line: str, sep: str) -> list[str]:
    return [c.strip().strip('"').strip() for c in line.split(sep)]


def sniff_separator(line: str, candidates: Sequence[str] = (";", "\t", ",")) -> str:
    """The separator of a header line: the most frequent candidate (``;`` wins ties)."""
    counts = {s: line.count(s) for s in candidates}
    best = max(candidates, key=lambda s: counts[s])
    return best if counts[best] else candidates[0]


class Table:
    """Columns of a delimited body and the 1-based file line of each row.

    Line numbers are only needed to name an error, so when the body has no blank line they
    are not stored: row ``i`` is line ``first_line + i``.
    """

    def __init__(self, label: str, columns: dict[str, pa.ChunkedArray],
                 lines: np.ndarray | None = None, *, n_rows: int | None = None,
                 first_line: int = 1) -> None:
        self.label = label
        self.columns = columns
        self._lines = None if lines is None else np.asarray(lines, dtype=np.int64)
        self._n = len(self._lines) if self._lines is not None else int(n_rows or 0)
        self._first = first_line

    def __len__(self) -> int:
        return self._n

    @property
    def lines(self) -> np.ndarray:
        """int64 file line of each row."""
        if self._lines is None:
            return np.arange(self._n, dtype=np.int64) + self._first
        return self._lines

    def line(self, row: int) -> int:
        if self._lines is None:
            return int(row) + self._first
        return int(self._lines[row])


def _line_bounds(body) -> tuple[np.ndarray, np.ndarray]:
    b = np.frombuffer(body, dtype=np.uint8)
    nl = np.flatnonzero(b == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [len(b)]))
    return starts, ends


def _count_newlines(data: bytes, lo: int, hi: int | None = None) -> int:
    """Number of ``\\n`` in ``data[lo:hi]``, in bounded chunks (no file-sized temporary)."""
    mv = memoryview(data)
    hi = len(data) if hi is None else hi
    n = 0
    for i in range(lo, hi, _BLOCK):
        n += int(np.count_nonzero(np.frombuffer(mv[i:min(i + _BLOCK, hi)], np.uint8) == 10))
    return n


def _row_lines(data: bytes, lo: int, n_rows: int, first_line: int, label: str,
               n_newlines: int | None = None):
    """File lines of the rows: None when row i is line first_line + i (no blank line)."""
    n_lines = (_count_newlines(data, lo) if n_newlines is None else n_newlines) + 1
    if len(data) == lo or data[-1] == 10:
        n_lines -= 1  # the empty segment after the last line end
    if n_rows == n_lines:
        # Each row takes at least one non-blank line: equal counts mean no blank line and
        # no record over several lines.
        return None
    starts, ends = _line_bounds(memoryview(data)[lo:])
    nonblank = np.flatnonzero(ends > starts)
    if n_rows != len(nonblank):
        raise FormatError(
            "a quoted field spans several lines", file=label, line=first_line,
            expected="one record per line",
        )
    return nonblank.astype(np.int64) + first_line


def _read_parts(data: bytes, lo: int, read: pcsv.ReadOptions, sep: str,
                convert: pcsv.ConvertOptions
                ) -> tuple[list[pa.Table], list[str], int | None]:
    """Arrow tables of ``data[lo:]`` in file order, the text of rows with a wrong count, and
    the number of line ends (counted by the same threads when the body is cut in parts).

    A large body is cut at line ends into one part per core, each read by a streaming reader
    (one block in memory at a time, where ``read_csv`` keeps every parsed block until the
    end); quotes could hide a line end, so a body with quotes is read as one part.
    """
    size = len(data) - lo
    buf = pa.py_buffer(data)
    if size < _PARALLEL_MIN_BYTES:
        bad: list[str] = []
        tbl = pcsv.read_csv(pa.BufferReader(buf.slice(lo)), read_options=read,
                            parse_options=_parse_options(sep, bad), convert_options=convert)
        return [tbl], bad, None
    n = max(1, min(os.cpu_count() or 1, 4, size // _PARALLEL_MIN_BYTES))
    if data.find(b'"', lo) >= 0:
        n = 1
    cuts = [lo]
    for k in range(1, n):
        j = data.find(b"\n", lo + size * k // n)
        if j < 0 or j + 1 >= len(data) or j + 1 <= cuts[-1]:
            break
        cuts.append(j + 1)
    cuts.append(len(data))
    bads: list[list[str]] = [[] for _ in cuts[1:]]

    def one(k: int) -> tuple[pa.Table, int]:
        a, b = cuts[k], cuts[k + 1]
        reader = pcsv.open_csv(pa.BufferReader(buf.slice(a, b - a)), read_options=read,
                               parse_options=_parse_options(sep, bads[k]),
                               convert_options=convert)
        return reader.read_all(), _count_newlines(data, a, b)  # numpy releases the GIL

    if len(bads) == 1:
        done = [one(0)]
    else:
        with ThreadPoolExecutor(len(bads)) as ex:
            done = list(ex.map(one, range(len(bads))))
    return [t for t, _ in done], [t for b in bads for t in b], sum(c for _, c in done)


def _parse_options(sep: str, bad_rows: list[str]) -> pcsv.ParseOptions:
    def on_invalid(row) -> str:
        bad_rows.append(row.text or "")
        return "skip"

    return pcsv.ParseOptions(delimiter=sep, invalid_row_handler=on_invalid,
                             ignore_empty_lines=True)


def _bad_row_line(data: bytes, lo: int, bad_rows: list[str], first_line: int
                  ) -> tuple[int | None, str]:
    """(file line, text) of the first row Arrow refused for its field count.

    Arrow gives the row's text but no row number once it reads in parallel, so the text is
    looked up among whole lines (a separator count would be fooled by quoted separators).
    Rows are reported per block, maybe out of order: the earliest line wins.
    """
    best: tuple[int | None, str] = (None, bad_rows[0] if bad_rows else "")
    for text in dict.fromkeys(bad_rows[:100]):
        needle = text.encode("utf-8")
        if not needle:
            continue
        end = lo + len(needle)
        if data.startswith(needle, lo) and (end == len(data) or data[end] == 10):
            k = lo
        else:
            k = data.find(b"\n" + needle + b"\n", lo)
            if k < 0 and data.endswith(b"\n" + needle) and len(data) - len(needle) > lo:
                k = len(data) - len(needle) - 1
            if k < 0:
                continue
            k += 1
        line = _count_newlines(data, lo, k) + first_line
        if best[0] is None or line < best[0]:
            best = (line, text)
    return best


def read_table(
    body: str | tuple[bytes, int], names: Sequence[str], *, sep: str, first_line: int,
    label: str, types: dict[str, pa.DataType] | None = None, decimal: str = ".",
) -> Table:
    """Parse a headerless delimited ``body`` whose first line is line ``first_line`` of the file.

    ``body`` is text or (UTF-8 bytes, offset where the body starts). Blank lines are skipped
    (and accounted for in line numbers); a row with the wrong number of fields is a
    FormatError naming its line. Columns are strings, unless ``types`` maps some names to
    Arrow types: then only those columns are read and Arrow converts them (empty -> null for
    non-strings), and a value it cannot convert raises ``Retry`` so that the caller re-reads
    as strings, whose messages are the reference.
    """
    data, lo = (body.encode("utf-8"), 0) if isinstance(body, str) else body
    ncols = len(names)
    internal = [f"c{i}" for i in range(ncols)]
    read = pcsv.ReadOptions(column_names=internal, block_size=_BLOCK)
    if types is None:
        convert = pcsv.ConvertOptions(
            column_types={c: pa.string() for c in internal}, strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )
        wanted = list(enumerate(names))
    else:
        pos = {n: i for i, n in enumerate(names)}
        wanted = sorted((pos[n], n) for n in types)
        convert = pcsv.ConvertOptions(
            column_types={f"c{pos[n]}": t for n, t in types.items()},
            include_columns=[f"c{i}" for i, _ in wanted], null_values=[""],
            strings_can_be_null=False, decimal_point=decimal,
        )
    try:
        parts, bad_rows, n_newlines = _read_parts(data, lo, read, sep, convert)
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        if types is not None:
            raise Retry(str(exc)) from None
        raise FormatError(f"unreadable table: {str(exc)[:200]}", file=label,
                          line=first_line) from None
    if bad_rows:
        line, text = _bad_row_line(data, lo, bad_rows, first_line)
        raise FormatError(
            "wrong number of fields", file=label, line=line, expected=f"{ncols} fields "
            f"separated by {sep!r}", found=text[:80],
        )
    n_rows = sum(t.num_rows for t in parts)
    lines = _row_lines(data, lo, n_rows, first_line, label, n_newlines)
    cols = {}
    for i, n in wanted:
        chunks = [c for t in parts for c in t.column(f"c{i}").chunks]
        cols[n] = pa.chunked_array(chunks, type=parts[0].schema.field(f"c{i}").type)
    return Table(label, cols, lines, n_rows=n_rows, first_line=first_line)


def first_record(body: tuple[bytes, int], ncols: int, sep: str) -> list[str] | None:
    """Fields of the first non-blank line of a body, as ``read_table`` would give them."""
    data, lo = body
    i = _LEADING_NL.match(data, lo).end()
    j = data.find(b"\n", i)
    j = len(data) if j < 0 else j
    if i >= j:
        return None
    try:
        t = read_table(data[i:j].decode("utf-8"), [f"c{k}" for k in range(ncols)], sep=sep,
                       first_line=1, label="")
    except InputError:
        return None
    if len(t) != 1:
        return None
    return [str(c[0].as_py()) for c in t.columns.values()]


def dict_codes(col: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """int32 codes and distinct values (trimmed, in order of first appearance) of a
    dictionary-typed column, as ``dictionary_encode`` of the trimmed strings would give.

    Each chunk has its own dictionary (in order of appearance within the chunk), so the
    concatenated dictionaries, deduplicated, are in order of appearance in the file.
    """
    if col.null_count:
        raise Retry("null in a dictionary column")
    chunks = [c for c in col.chunks if len(c)]
    if not chunks:
        return np.zeros(0, np.int32), []
    dicts = [pc.utf8_trim_whitespace(c.dictionary) for c in chunks]
    uniq = pc.unique(pa.concat_arrays(dicts))
    if len(uniq) == 1:
        return np.zeros(len(col), np.int32), uniq.to_pylist()
    out = np.empty(len(col), np.int32)
    pos = 0
    for c, d in zip(chunks, dicts, strict=True):
        remap = pc.index_in(d, value_set=uniq).to_numpy(zero_copy_only=False).astype(np.int32)
        np.take(remap, c.indices.to_numpy(zero_copy_only=False), out=out[pos:pos + len(c)],
                mode="clip")  # indices are valid; "raise" would buffer the output
        pos += len(c)
    return out, uniq.to_pylist()


# Plausible times (``columns.MIN/MAX_TIMESTAMP_UTC``): typos (year 23, 9999) are refused and
# ns arithmetic stays safe. Naive local times are compared with the same wall-clock bounds.
_MIN_NS = int(pd.Timestamp(C.MIN_TIMESTAMP_UTC).value)
_END_NS = int(pd.Timestamp(C.MAX_TIMESTAMP_UTC).value)  # first refused instant
_ERA = (f"a time from {C.MIN_TIMESTAMP_UTC:%Y-%m-%d} to before "
        f"{C.MAX_TIMESTAMP_UTC:%Y-%m-%d}")


def typed_times(col: pa.ChunkedArray) -> np.ndarray:
    """int64 ns of an Arrow-parsed timestamp column; Retry if empty cells or times outside
    the plausible era (the string path words those errors)."""
    if col.null_count:
        raise Retry("empty timestamp")
    ns = np.concatenate([c.cast(pa.int64()).to_numpy() for c in col.chunks]) if \
        col.num_chunks else np.zeros(0, np.int64)
    if len(ns) and (ns.min() < _MIN_NS or ns.max() >= _END_NS):
        raise Retry("timestamp out of range")
    return ns


def typed_floats(col: pa.ChunkedArray) -> np.ndarray:
    """float64 of an Arrow-parsed column, NaN where empty; Retry on nan/inf written out."""
    out = np.concatenate([c.to_numpy(zero_copy_only=False) for c in col.chunks]) if \
        col.num_chunks else np.zeros(0, np.float64)
    out = np.asarray(out, dtype=np.float64)
    finite = np.isfinite(out)
    if not finite.all():
        written = np.concatenate([c.is_valid().to_numpy(zero_copy_only=False)
                                  for c in col.chunks])
        if (written & ~finite).any():
            raise Retry("non-finite number")
    return out


_AWARE = re.compile(r"(Z|[+-][0-9][0-9]:?[0-9][0-9])$")


def timestamp_type(first: str) -> pa.DataType:
    """Arrow type ``to_datetime`` would cast to, judged like it from the first row."""
    return pa.timestamp("ns", tz="UTC") if _AWARE.search(first.strip()) else pa.timestamp("ns")


def column_index(header: Sequence[str], wanted: str, label: str, line: int) -> int:
    """Index of ``wanted`` in a header (case- and accent-tolerant), else FormatError."""
    norm = [_fold(h) for h in header]
    try:
        return norm.index(_fold(wanted))
    except ValueError:
        raise FormatError(
            "missing column", file=label, line=line, field=wanted,
            expected=f"a column named {wanted!r}", found=", ".join(header)[:200],
        ) from None


def _fold(s: str) -> str:
    import unicodedata

    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return " ".join(s.lower().split())


def fold(s: str) -> str:
    """Lower-case, accent-free, single-spaced: for comparing header labels."""
    return _fold(s)


# --- typed conversions -------------------------------------------------------------------


def _first(mask: np.ndarray) -> int | None:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if len(idx) else None


def _text_at(col: pa.ChunkedArray, i: int) -> str:
    return str(col[i].as_py())[:60]


def to_float(
    col: pa.ChunkedArray, table: Table, field: str, *, decimal_comma: bool = False,
    allow_missing: bool = True, missing: Sequence[str] = (),
) -> np.ndarray:
    """float64 values, NaN where the cell is empty (or one of ``missing``, like ``mq``)."""
    s = pc.utf8_trim_whitespace(col)
    if decimal_comma:
        s = pc.replace_substring(s, ",", ".")
    empty = pc.equal(s, "")
    for token in missing:
        empty = pc.or_(empty, pc.equal(s, token))
    empty_np = empty.to_numpy(zero_copy_only=False)
    s = pc.if_else(empty, pa.scalar(None, pa.string()), s)
    try:
        out = pc.cast(s, pa.float64()).to_numpy(zero_copy_only=False)
        bad = None
    except pa.ArrowInvalid:
        out = pd.to_numeric(pd.Series(s.to_numpy(zero_copy_only=False)), errors="coerce")
        out = out.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = _first(np.isnan(out) & ~empty_np)
    out = np.asarray(out, dtype=np.float64)
    if bad is None:
        bad = _first(~np.isfinite(out) & ~empty_np)
    if bad is not None:
        raise FormatError("not a number", file=table.label, line=table.line(bad), field=field,
                          expected="a decimal number" + (" (comma decimal)" if decimal_comma
                                                         else ""),
                          found=_text_at(col, bad))
    if not allow_missing and empty_np.any():
        i = _first(empty_np)
        raise FormatError("missing value", file=table.label, line=table.line(i), field=field,
                          expected="a number", found="")
    return out


def _bisect_first_failure(col: pa.ChunkedArray, typ: pa.DataType) -> int:
    """Index of the first string that ``typ`` rejects: O(n) casts over halving slices."""
    lo, n = 0, len(col)
    while n > 1:
        half = n // 2
        try:
            pc.cast(col.slice(lo, half), typ)
            lo, n = lo + half, n - half
        except pa.ArrowInvalid:
            n = half
    return lo


def to_datetime(
    col: pa.ChunkedArray, table: Table, field: str, *, fmt: str | None = None,
    tz: str | None = None, ambiguous: str = "infer", nonexistent: str = "raise",
    keep_naive: bool = False,
) -> pd.DatetimeIndex:
    """Timestamps as a UTC DatetimeIndex (ns), or naive when ``keep_naive`` and no offsets.

    With ``fmt=None`` ISO 8601 is expected. Strings with a UTC offset are exact; naive strings
    are local times of ``tz`` (required). ``ambiguous`` is "infer" (the repeated hour of the
    autumn change is told apart by the order of rows), "earliest" (summer time) or "latest";
    ``nonexistent`` is "raise" or "shift_forward".
    """
    s = pc.utf8_trim_whitespace(col)
    if len(s) == 0:
        return pd.DatetimeIndex([], dtype="datetime64[ns, UTC]")
    if fmt is None:
        aware = pc.match_substring_regex(s, r"(Z|[+-]\d\d:?\d\d)$").to_numpy(
            zero_copy_only=False)
        typ = pa.timestamp("ns", tz="UTC") if aware[0] else pa.timestamp("ns")
        try:
            ts = pc.cast(s, typ)
        except pa.ArrowInvalid:
            i = _bisect_first_failure(s, typ)
            what = "ISO 8601 timestamp" + (" with UTC offset" if aware[0] else " without offset")
            raise FormatError("bad timestamp", file=table.label, line=table.line(i),
                              field=field, expected=what, found=_text_at(col, i)) from None
    else:
        # pandas, not pc.strptime: Arrow's strptime accepts 31/02 and rolls it over.
        # Years pandas cannot hold become NaT ("bad timestamp"); the era is checked below.
        parsed = pd.to_datetime(pd.Series(s.to_pandas()), format=fmt, errors="coerce",
                                utc="%z" in fmt)
        ts = pa.chunked_array([pa.array(parsed.dt.as_unit("ns"))])
        nulls = parsed.isna().to_numpy()
        i = _first(nulls)
        if i is not None:
            raise FormatError("bad timestamp", file=table.label, line=table.line(i),
                              field=field, expected=f"format {fmt}", found=_text_at(col, i))
    idx = pd.DatetimeIndex(ts.to_pandas())
    ns = idx.asi8
    out_of_era = (ns < _MIN_NS) | (ns >= _END_NS)
    if out_of_era.any():
        i = int(np.flatnonzero(out_of_era)[0])
        raise FormatError("timestamp out of range", file=table.label, line=table.line(i),
                          field=field, expected=_ERA, found=_text_at(col, i))
    if idx.tz is not None:
        return idx.tz_convert("UTC").as_unit("ns")
    if keep_naive:
        return idx.as_unit("ns")
    if tz is None:
        raise FormatError("timestamps have no UTC offset and no timezone was declared",
                          file=table.label, line=table.line(0), field=field,
                          expected="an offset or a timezone option", found=_text_at(col, 0))
    return localize(idx.as_unit("ns"), tz, table, field, ambiguous=ambiguous,
                    nonexistent=nonexistent, col=col)


def localize(
    idx: pd.DatetimeIndex, tz: str, table: Table, field: str, *, ambiguous: str = "infer",
    nonexistent: str = "raise", col: pa.ChunkedArray | None = None,
    rows: np.ndarray | None = None,
) -> pd.DatetimeIndex:
    """Attach ``tz`` to naive local times and convert to UTC, with typed DST errors."""
    rows = np.arange(len(idx)) if rows is None else rows
    if tz.upper() == "UTC":
        return idx.tz_localize("UTC")
    amb: str | np.ndarray
    if ambiguous == "infer":
        amb = "infer"
    elif ambiguous in ("earliest", "latest"):
        amb = np.full(len(idx), ambiguous == "earliest")
    else:
        raise InputError("bad option", field="ambiguous",
                         expected="infer, earliest or latest", found=ambiguous)
    if nonexistent not in ("raise", "shift_forward"):
        raise InputError("bad option", field="nonexistent", expected="raise or shift_forward",
                         found=nonexistent)
    try:
        local = idx.tz_localize(tz, ambiguous=amb, nonexistent=nonexistent)
    except Exception as exc:  # noqa: BLE001 - pandas raises several types across versions
        if "Unknown time zone" in str(exc) or "ZoneInfo" in type(exc).__name__:
            raise InputError("unknown timezone", field="timezone", expected="an IANA name "
                             "like Europe/Paris", found=tz) from None
        probe = idx.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        i = _first(np.asarray(probe.isna()))
        i = 0 if i is None else i
        line = table.line(int(rows[i]))
        found = str(idx[i])
        nonex = idx.tz_localize(tz, ambiguous=np.zeros(len(idx), bool), nonexistent="NaT")
        if bool(nonex[i] is pd.NaT):
            raise FormatError(
                "local time that does not exist (spring DST change)", file=table.label,
                line=line, field=field, expected="a valid Europe/Paris local time or "
                "nonexistent='shift_forward'", found=found) from None
        raise FormatError(
            "ambiguous local time (autumn DST change) that the order of rows cannot resolve",
            file=table.label, line=line, field=field,
            expected="timestamps with UTC offsets, or ambiguous='earliest'/'latest'",
            found=found) from None
    return local.tz_convert("UTC")


# --- output frames -----------------------------------------------------------------------


def check_range(values: np.ndarray, quantity: str, table: Table, field: str,
                rows: np.ndarray | None = None) -> None:
    """ValueRangeError on the first physically impossible value of ``quantity``."""
    q = C.QUANTITIES[quantity]
    bad = np.zeros(len(values), bool)
    with np.errstate(invalid="ignore"):
        if q.min_value is not None:
            bad |= values < q.min_value
        if q.max_value is not None:
            bad |= values > q.max_value
    i = _first(bad)
    if i is not None:
        r = i if rows is None else int(rows[i])
        raise ValueRangeError(
            f"impossible {quantity}", file=table.label, line=table.line(r), field=field,
            expected=f"between {q.min_value} and {q.max_value} {q.unit}", found=str(values[i]))


def utc_from_ns(ns: np.ndarray) -> pd.DatetimeIndex:
    """int64 ns since the epoch -> UTC DatetimeIndex, without per-element conversion."""
    return pd.DatetimeIndex(np.asarray(ns, dtype=np.int64).view("datetime64[ns]")).tz_localize(
        "UTC")


_NS_PER_S = 1_000_000_000
_CHUNK = 1 << 20  # rows per pass of the O(n) checks: temporaries stay in cache


def _is_sorted(code: np.ndarray, t: np.ndarray, rows: np.ndarray | None) -> bool:
    """Rows already in (code, t, rows) order: checked in O(n), chunk by chunk, before paying
    for a sort."""
    n = len(code)
    for i in range(0, max(n - 1, 0), _CHUNK):
        j = min(i + _CHUNK + 1, n)
        c, tt = code[i:j], t[i:j]
        if (c[1:] < c[:-1]).any():
            return False
        tie = c[1:] == c[:-1]
        down = tt[1:] < tt[:-1]
        if (tie & down).any():
            return False
        if rows is not None:
            tie &= tt[1:] == tt[:-1]
            if tie.any() and (tie & (rows[i + 1:j] < rows[i:j - 1])).any():
                return False
    return True


def sort_order(code: np.ndarray, t: np.ndarray, rows: np.ndarray | None = None
               ) -> np.ndarray | None:
    """The permutation of ``np.lexsort((rows, t, code))`` (stable when ``rows`` is None),
    or None when the rows are already in that order, the usual case of a meter export.

    Files grouped by meter but not in key order only need a stable sort of the codes.
    """
    if _is_sorted(code, t, rows):
        return None
    o = np.argsort(code, kind="stable")
    if _is_sorted(code[o], t[o], None if rows is None else rows[o]):
        return o
    return np.lexsort((t, code)) if rows is None else np.lexsort((rows, t, code))


def finish_readings(
    table: Table, warnings: list[str], *, key_codes: np.ndarray, keys: Sequence[str],
    quantity: str, start_ns: np.ndarray, duration_s: np.ndarray, value: np.ndarray,
    rows: np.ndarray | None, field: str = "value",
) -> pd.DataFrame:
    """Validate ranges, floor times to the second, sort, drop exact duplicates (warning) and
    refuse conflicting ones.

    Works on integer codes and numpy arrays: sorting and duplicate detection on string
    columns would cost more than the whole parse. ``rows`` (table row of each reading) may be
    None for 0..n-1. The arrays may be reused by the frame: callers hand them over.
    """
    if quantity not in C.QUANTITIES:
        raise InputError("unknown quantity", field="quantity",
                         expected=", ".join(sorted(C.QUANTITIES)), found=str(quantity))
    check_range(value, quantity, table, field, rows=rows)
    # The store keeps whole seconds: floor first, so that two readings within one second are
    # judged as duplicates here (same value: dropped; different: refused) and not by the store.
    if any((start_ns[i:i + _CHUNK] % _NS_PER_S).any() for i in range(0, len(start_ns), _CHUNK)):
        start_ns = start_ns - start_ns % _NS_PER_S
    # Codes follow the sorted key names so the output is sorted by series_key.
    rank = np.argsort(np.argsort(np.asarray(keys, dtype=object)))
    kc = key_codes
    if len(keys) and not np.array_equal(rank, np.arange(len(keys))):
        kc = rank[key_codes]
    sorted_keys = np.asarray(sorted(keys), dtype=object)
    order = sort_order(kc, start_ns, rows)
    if order is not None:
        kc, start_ns, duration_s, value = (a[order] for a in (kc, start_ns, duration_s, value))
        rows = order if rows is None else rows[order]
    del order

    def row(i) -> int:
        return int(i) if rows is None else int(rows[i])

    same = np.zeros(len(kc), bool)
    same[1:] = (kc[1:] == kc[:-1]) & (start_ns[1:] == start_ns[:-1])
    if same.any():
        prev = np.flatnonzero(same) - 1
        # An exact copy of the kept row is dropped; compare each repeat with the first row
        # of its run, so a conflict anywhere in the run is caught.
        run_start = np.maximum.accumulate(np.where(~same, np.arange(len(same)), 0))
        first = run_start[prev + 1]
        exact = (value[prev + 1] == value[first]) & (duration_s[prev + 1] == duration_s[first])
        if not exact.all():
            j = int(np.flatnonzero(~exact)[0])
            i0, i1 = int(first[j]), int(prev[j] + 1)
            raise FormatError(
                "two different values for the same series and time", file=table.label,
                line=table.line(row(i1)), field=field,
                expected=f"one value per interval (line {table.line(row(i0))} already "
                f"gives {value[i0]!r})", found=str(value[i1]))
        warnings.append(f"{table.label}: {int(same.sum())} exact duplicate row(s) dropped "
                        f"(first at line {table.line(row(prev[0] + 1))})")
        keep = ~same
        kc, start_ns, duration_s, value = kc[keep], start_ns[keep], duration_s[keep], value[keep]
    del same
    key_col = pd.Series(sorted_keys, dtype=str).take(kc).reset_index(drop=True)
    del kc
    # copy=False: the arrays are ours, a copy would only cost time and memory.
    return pd.DataFrame({
        C.SERIES_KEY: key_col,
        C.QUANTITY: pd.Series([quantity], dtype=str).take(np.zeros(len(key_col), np.int64))
        .reset_index(drop=True),
        C.START_UTC: utc_from_ns(start_ns),
        C.DURATION_S: np.asarray(duration_s, dtype=np.int64),
        C.VALUE: np.asarray(value, dtype=np.float64),
    }, copy=False)


def readings_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The canonical dtypes and column order of a long reading frame."""
    out = pd.DataFrame({
        C.SERIES_KEY: frame[C.SERIES_KEY].astype(str).to_numpy(dtype=object),
        C.QUANTITY: frame[C.QUANTITY].astype(str).to_numpy(dtype=object),
        C.START_UTC: pd.DatetimeIndex(frame[C.START_UTC]).tz_convert("UTC").as_unit("ns"),
        C.DURATION_S: frame[C.DURATION_S].to_numpy(dtype=np.int64),
        C.VALUE: frame[C.VALUE].to_numpy(dtype=np.float64),
    })
    out[C.SERIES_KEY] = out[C.SERIES_KEY].astype(str)
    out[C.QUANTITY] = out[C.QUANTITY].astype(str)
    return out.reset_index(drop=True)


def infer_step_s(starts: np.ndarray, groups: np.ndarray | None = None) -> int | None:
    """Median positive difference (s) of sorted int64-ns times, per group when given."""
    if len(starts) < 2:
        return None
    order = sort_order(np.zeros(len(starts), np.int8) if groups is None else groups, starts)
    t = starts if order is None else starts[order]
    d = np.diff(t)
    if groups is not None:
        g = groups if order is None else groups[order]
        d = d[g[1:] == g[:-1]]
    d = d[d > 0]
    if not len(d):
        return None
    return int(np.median(d) // 1_000_000_000)


def group_steps_s(starts: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Median positive difference (s) of consecutive times within each group, as
    ``infer_step_s`` gives for one group; 0 for a group with fewer than two distinct times.

    ``starts`` must be sorted by (group, time), so that each group is one contiguous run: the
    loop is over groups (meters), never over rows.
    """
    out = np.zeros(n_groups, np.int64)
    if len(starts) < 2:
        return out
    cut = np.flatnonzero(groups[1:] != groups[:-1]) + 1
    bounds = np.concatenate(([0], cut, [len(starts)]))
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        if b - a < 2:
            continue
        d = np.diff(starts[a:b])
        d = d[d > 0]
        if len(d):
            k = len(d)
            mid = np.partition(d, [(k - 1) // 2, k // 2])
            med = (int(mid[(k - 1) // 2]) + int(mid[k // 2])) // 2
            out[groups[a]] = med // 1_000_000_000
    return out


def check_regular(
    starts_ns: np.ndarray, step_s: int | np.ndarray, table: Table, field: str,
    groups: np.ndarray | None = None, rows: np.ndarray | None = None,
) -> None:
    """Consecutive intervals of a series must be whole multiples of the step apart.

    Gaps are allowed (the quality module reports them); overlaps and off-grid times are not.
    ``starts_ns`` must already be sorted within each group; ``rows`` maps back to table rows.
    Equal times pass here: duplicates are judged by ``finish_readings``. Runs chunk by chunk
    so that no file-sized temporary is made.
    """
    n = len(starts_ns)
    scalar = np.ndim(step_s) == 0
    for i in range(0, max(n - 1, 0), _CHUNK):
        j = min(i + _CHUNK + 1, n)
        d = np.diff(starts_ns[i:j])
        if scalar:
            step_ns = np.int64(step_s) * 1_000_000_000
        else:
            step_ns = np.asarray(step_s[i + 1:j], dtype=np.int64) * 1_000_000_000
        bad = d % step_ns != 0
        if groups is not None:
            bad &= groups[i + 1:j] == groups[i:j - 1]
        k = _first(bad)
        if k is not None:
            r = i + k + 1 if rows is None else int(rows[i + k + 1])
            raise FormatError(
                "interval not aligned on the step (overlap or irregular time)",
                file=table.label, line=table.line(r), field=field,
                expected="a whole number of steps after the previous row",
                found=f"{d[k] / 1e9:g} s")
