from typing import final

__version__: str

class EsrError(Exception):
    """Base class of every error raised by esr."""

class InvalidInputError(EsrError):
    """A value given to esr is not valid."""

@final
class Username:
    def __new__(cls, text: str) -> Username: ...
    @property
    def vpd(self) -> str: ...
    @property
    def stem(self) -> str: ...
    @property
    def sequence(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class MobileNumber:
    def __new__(cls, text: str) -> MobileNumber: ...
    @property
    def masked(self) -> str: ...
    def expose_e164(self) -> str: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

def username_stem(given_name: str, surname: str) -> str: ...
def urp_names() -> list[str]: ...
def allowed_functions(
    urps: list[str],
    channel: str,
    *,
    upgraded: bool = False,
    automatic_internet_access: bool = False,
    upgrade_manager: bool = False,
    upgrade_professional: bool = False,
    internet_access_approved: bool = False,
) -> list[str]: ...

# Bulk scoring over Arrow tables (src/bulk.rs). The tables are any object with
# __arrow_c_stream__ or __arrow_c_array__ (pyarrow Table, polars or pandas DataFrame).
import datetime
import os

import pyarrow  # type: ignore[import-untyped]

class BulkInputError(InvalidInputError): ...

def score_compliance(
    assignments: object,
    requirements: object,
    holdings: object,
    as_of: datetime.date,
    amber_months: int = 3,
) -> pyarrow.Table: ...
def read_competence_csv(
    source: str | os.PathLike[str] | bytes,
    vpd: str,
    *,
    skip_bad_rows: bool = False,
) -> pyarrow.Table: ...
