//! The DataFrame library a bulk function answers in: the caller's (polars in, polars out;
//! pandas in, pandas out), pyarrow otherwise, or the one `output=` names. Results are built as
//! pyarrow Tables and converted at the end (polars.from_arrow shares the buffers).

use crate::errors::InvalidInputError;
use pyo3::exceptions::PyImportError;
use pyo3::prelude::*;

/// A DataFrame library.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Library {
    /// pyarrow.Table.
    Arrow,
    /// pandas.DataFrame.
    Pandas,
    /// polars.DataFrame.
    Polars,
}

/// The library `obj` belongs to, by its type's module, if polars or pandas.
fn library_of(obj: &Bound<'_, PyAny>) -> Option<Library> {
    let module = obj.get_type().module().ok()?;
    let module = module.to_str().ok()?;
    let top = module.split('.').next().unwrap_or_default();
    match top {
        "polars" => Some(Library::Polars),
        "pandas" => Some(Library::Pandas),
        _ => None,
    }
}

/// The library to answer in: `output` when given ("pyarrow", "pandas", "polars"), else that of
/// the first input that is a polars or pandas frame, else pyarrow.
pub(crate) fn output_library(
    output: Option<&str>,
    inputs: &[&Bound<'_, PyAny>],
) -> PyResult<Library> {
    match output {
        Some("pyarrow" | "arrow") => Ok(Library::Arrow),
        Some("pandas") => Ok(Library::Pandas),
        Some("polars") => Ok(Library::Polars),
        Some(other) => Err(InvalidInputError::new_err(format!(
            "output is {}; give \"pyarrow\", \"pandas\" or \"polars\", or leave it out to answer in the library of the tables given",
            esr_core::values::limits::shown(other)
        ))),
        None => Ok(inputs
            .iter()
            .find_map(|t| library_of(t))
            .unwrap_or(Library::Arrow)),
    }
}

/// A polars LazyFrame collected into a DataFrame; anything else as it is.
pub(crate) fn collected<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    if library_of(obj) == Some(Library::Polars) && obj.get_type().name()?.to_str()? == "LazyFrame" {
        return obj.call_method0("collect");
    }
    Ok(obj.clone())
}

fn import<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyModule>> {
    py.import(name).map_err(|_| {
        PyImportError::new_err(format!(
            "esr was asked for a {name} result but {name} is not installed: pip install 'esr[{name}]' (or pip install {name})"
        ))
    })
}

/// A pyarrow Table in `lib`.
pub(crate) fn convert<'py>(table: Bound<'py, PyAny>, lib: Library) -> PyResult<Bound<'py, PyAny>> {
    let py = table.py();
    match lib {
        Library::Arrow => Ok(table),
        Library::Polars => import(py, "polars")?.call_method1("from_arrow", (table,)),
        Library::Pandas => {
            import(py, "pandas")?;
            table.call_method0("to_pandas")
        }
    }
}
