"""esr: the self-service core of the NHS Electronic Staff Record, from Python."""

from esr._esr import (
    EsrError,
    InvalidInputError,
    MobileNumber,
    Username,
    __version__,
    allowed_functions,
    urp_names,
    username_stem,
)

__all__ = [
    "EsrError",
    "InvalidInputError",
    "MobileNumber",
    "Username",
    "__version__",
    "allowed_functions",
    "urp_names",
    "username_stem",
]
