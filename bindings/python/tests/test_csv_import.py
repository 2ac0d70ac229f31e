"""The competence CSV importers from Python: every kind of source (bytes, a path as str or
os.PathLike, a binary file object), streamed in chunks, with clear errors for text-mode files and
wrong types, and bounded refusals."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import esr
from test_service import VPD, World, build, competence

HEAD = "Employee Number,Competency Name,Expiry Date,VPD\n"


@pytest.fixture
def w() -> World:
    return build()


def export(w: World) -> str:
    fire = competence(w, "Fire Safety - 1 Year")
    e = w.cat.employee_number
    return HEAD + f"{e},{fire},30-Nov-2028,297\n\n{e},{fire},30-Nov-2029,297\n"


class Chunks:
    """A binary file object that hands out at most `most` bytes a call and records the sizes
    asked for."""

    def __init__(self, data: bytes, most: int = 7) -> None:
        self.data = data
        self.most = most
        self.asked: list[int] = []

    def read(self, n: int = -1) -> bytes:
        self.asked.append(n)
        take = min(n, self.most)
        out, self.data = self.data[:take], self.data[take:]
        return out


class Endless:
    """A binary file object producing a header and then one line of `size` bytes lazily,
    counting what it hands out."""

    def __init__(self, size: int) -> None:
        self.head = HEAD.encode()
        self.left = size
        self.given = 0

    def read(self, n: int) -> bytes:
        if self.head:
            out, self.head = self.head[:n], self.head[n:]
        else:
            out = b"x" * min(n, self.left)
            self.left -= len(out)
        self.given += len(out)
        return out


def test_every_kind_of_source_imports_the_same(w: World, tmp_path: Path) -> None:
    text = export(w)
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode())
    sources: list[bytes | bytearray | str | Path | io.BytesIO] = [str(path), text.encode(), bytearray(text.encode()), path, io.BytesIO(text.encode())]
    summaries = [w.esr.import_competences("learning", VPD, s) for s in sources]
    with path.open("rb") as f:
        summaries.append(w.esr.import_competences("learning", VPD, f))
    chunks = Chunks(text.encode())
    summaries.append(w.esr.import_competences("learning", VPD, chunks))
    for s in summaries:
        # Both rows are achieved today (no Achieved Date): the later expiry is kept.
        assert (s.imported, s.merged_duplicates, s.skipped, s.more_skipped) == (1, 1, [], 0)
    # Read a little at a time, never the whole file in one call.
    assert len(chunks.asked) > 10 and max(chunks.asked) <= 64 * 1024
    records = w.esr.competence_records("learning", VPD, w.cat.employee_number)
    assert [r.expiry.year for r in records if r.expiry] == [2029]


def test_read_competence_csv_takes_a_binary_file_object(w: World, tmp_path: Path) -> None:
    text = export(w)
    whole = esr.read_competence_csv(text.encode(), vpd=VPD)
    assert whole.column("line").to_pylist() == [2, 4]  # the blank line counts
    assert esr.read_competence_csv(Chunks(text.encode(), most=1), vpd=VPD).equals(whole)
    assert esr.read_competence_csv(io.BytesIO(text.encode()), vpd=VPD).equals(whole)
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode())
    assert esr.read_competence_csv(str(path), vpd=VPD).equals(whole)
    with path.open("rb") as f:
        assert esr.read_competence_csv(f, vpd=VPD).equals(whole)


def test_text_mode_files_and_wrong_types_are_type_errors(w: World, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(export(w))
    with path.open() as f:
        with pytest.raises(TypeError, match=r"argument 'csv': the file is open in text mode; open it in binary mode \('rb'\)"):
            w.esr.import_competences("learning", VPD, f)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="argument 'source': the file is open in text mode"):
            esr.read_competence_csv(f, vpd=VPD)  # type: ignore[arg-type]

    class ReturnsText:
        def read(self, n: int) -> str:
            return "Employee Number"

    with pytest.raises(TypeError, match=r"argument 'csv': read\(\) returned str: the file is open in text mode"):
        w.esr.import_competences("learning", VPD, ReturnsText())  # type: ignore[arg-type]
    for wrong in [42, None, 1.5, ["a"], object()]:
        with pytest.raises(TypeError, match=r"argument 'csv': expected a path \(str or os.PathLike\), the file's contents \(bytes\)"):
            w.esr.import_competences("learning", VPD, wrong)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"argument 'source': expected a path \(str or os.PathLike\), the file's contents \(bytes\)"):
            esr.read_competence_csv(wrong, vpd=VPD)  # type: ignore[arg-type]
    with pytest.raises(UnicodeEncodeError) as e:
        w.esr.import_competences("learning", VPD, "Employee Number\ud800")
    assert "while processing 'csv'" in e.value.__notes__
    # A str is a path; one with a line break is the contents given the old way: say so.
    for call in (lambda s: w.esr.import_competences("learning", VPD, s), lambda s: esr.read_competence_csv(s, vpd=VPD)):
        with pytest.raises(TypeError, match="a str is a path.*pass the contents as bytes"):
            call(export(w))
    assert w.esr.competence_records("learning", VPD, w.cat.employee_number) == []


def test_a_long_path_is_not_echoed_whole(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="cannot open") as e:
        esr.read_competence_csv(str(tmp_path / ("x" * 100_000)), vpd=VPD)
    assert len(str(e.value)) < 400


def test_an_exception_from_read_is_raised_and_nothing_is_imported(w: World) -> None:
    good = export(w).encode()

    class Fails:
        def __init__(self) -> None:
            self.calls = 0

        def read(self, n: int) -> bytes:
            self.calls += 1
            if self.calls == 1:
                return good
            raise ConnectionResetError("the share went away")

    with pytest.raises(ConnectionResetError, match="the share went away"):
        w.esr.import_competences("learning", VPD, Fails(), skip_bad_rows=True)
    with pytest.raises(ConnectionResetError):
        esr.read_competence_csv(Fails(), vpd=VPD)
    assert w.esr.competence_records("learning", VPD, w.cat.employee_number) == []


def test_a_huge_line_is_refused_after_reading_about_the_limit(w: World) -> None:
    source = Endless(500 * 1024 * 1024)
    with pytest.raises(esr.ImportRejectedError, match="line 2: the row is over 64 KiB"):
        w.esr.import_competences("learning", VPD, source)
    assert source.given < 256 * 1024
    source = Endless(500 * 1024 * 1024)
    with pytest.raises(esr.BulkInputError, match="line 2: the row is over 64 KiB"):
        esr.read_competence_csv(source, vpd=VPD)
    assert source.given < 256 * 1024


def test_problems_are_capped_with_a_count_of_the_rest(w: World) -> None:
    bad = HEAD + "x1,NHS|CSTF|Fire Safety - 1 Year|,30-Nov-2028,297\n" * 1500
    with pytest.raises(esr.ImportRejectedError) as e:
        w.esr.import_competences("learning", VPD, bad.encode())
    message = str(e.value)
    assert "1500 bad row(s), the first at line 2" in message
    assert "1000 are listed, 500 more were counted but not kept" in message
    assert len(message) < 1000
    summary = w.esr.import_competences("learning", VPD, bad.encode(), skip_bad_rows=True)
    assert (summary.imported, len(summary.skipped), summary.more_skipped) == (0, 1000, 500)
    assert summary.skipped[-1].line == 1001
    with pytest.warns(UserWarning, match="skipped 1500 bad row"):
        esr.read_competence_csv(bad.encode(), vpd=VPD, skip_bad_rows=True)


def test_line_numbers_count_blank_lines_crlf_quoted_breaks_and_a_bom(w: World) -> None:
    fire = competence(w, "Fire Safety - 1 Year")
    e = w.cat.employee_number
    text = (
        "\ufeff" + HEAD.replace("\n", "\r\n")
        + "\r\n"
        + f'{e},"{fire}",30-Nov-2028,297\r\n'
        + f'x1,"{fire}",30-Nov-2028,"2\n9\n7"\r\n'
        + f"99999999,{fire},30-Nov-2028,297\n"
    )
    summary = w.esr.import_competences("learning", VPD, text.encode(), skip_bad_rows=True)
    assert summary.imported == 1
    assert [p.line for p in summary.skipped] == [4, 7]
