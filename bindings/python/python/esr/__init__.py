"""esr: the self-service core of the NHS Electronic Staff Record, from Python."""

from esr._esr import (
    BulkInputError,
    EsrError,
    InvalidInputError,
    MobileNumber,
    Username,
    __version__,
    allowed_functions,
    urp_names,
    read_competence_csv,
    score_compliance,
    username_stem,
)

__all__ = [
    "BulkInputError",
    "EsrError",
    "InvalidInputError",
    "MobileNumber",
    "Username",
    "__version__",
    "allowed_functions",
    "urp_names",
    "read_competence_csv",
    "score_compliance",
    "username_stem",
]
