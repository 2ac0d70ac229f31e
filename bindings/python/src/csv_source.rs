//! Where a competence CSV comes from in Python: the file's bytes, a path, or a binary file
//! object. Files and file objects are read in chunks as the core parses, never whole: a file
//! object's `.read(n)` is called with the interpreter's lock taken for that call only (the core
//! runs with the lock released).

use pyo3::exceptions::{PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};
use std::io::Read;

/// A competence CSV source, ready to be read with the interpreter released.
pub(crate) enum CsvSource<'py> {
    /// `bytes`, read in place.
    Bytes(Bound<'py, PyBytes>),
    /// A copy of a `bytearray`.
    Owned(Vec<u8>),
    /// A file opened from a path.
    File(std::fs::File),
    /// A binary file object.
    Object(PyReader),
}

/// The first 200 characters of a path, for messages.
pub(crate) fn shown(path: &std::path::Path) -> String {
    let s = path.display().to_string();
    match s.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

impl<'py> CsvSource<'py> {
    /// Sorts out `source`, the argument `arg` of the calling function, with one meaning per
    /// type across the package: `str` and `os.PathLike` are paths; `bytes`, `bytearray` and
    /// binary file objects (anything with `.read(n)` that is not a text file) are contents.
    /// Anything else is a `TypeError` naming `arg`, and so is a `str` that is clearly a file's
    /// contents rather than a path (it has a line break).
    pub(crate) fn new(source: &Bound<'py, PyAny>, arg: &'static str) -> PyResult<Self> {
        let py = source.py();
        if let Ok(b) = source.cast::<PyBytes>() {
            return Ok(Self::Bytes(b.clone()));
        }
        if let Ok(b) = source.cast::<PyByteArray>() {
            return Ok(Self::Owned(b.to_vec()));
        }
        if let Ok(s) = source.cast::<PyString>() {
            // A lone surrogate cannot be encoded: note which argument, as pyo3 does.
            let text = s.to_str().inspect_err(|e| {
                let _ = e
                    .value(py)
                    .call_method1("add_note", (format!("while processing '{arg}'"),));
            })?;
            if text.contains(['\n', '\r']) {
                return Err(PyTypeError::new_err(format!(
                    "argument '{arg}': a str is a path, and this one has a line break, so it looks like the file's contents; pass the contents as bytes (text.encode()) or give the file's path"
                )));
            }
        }
        if source.hasattr("read")? {
            let text = py.import("io")?.getattr("TextIOBase")?;
            if source.is_instance(&text)? {
                return Err(PyTypeError::new_err(format!(
                    "argument '{arg}': the file is open in text mode; open it in binary mode ('rb')"
                )));
            }
            return Ok(Self::Object(PyReader::new(source.clone().unbind(), arg)));
        }
        let accepted = "a path (str or os.PathLike), the file's contents (bytes)";
        let wrong = || {
            PyTypeError::new_err(format!(
                "argument '{arg}': expected {accepted} or a binary file object, got {}",
                source
                    .get_type()
                    .name()
                    .map_or_else(|_| "this".to_owned(), |n| n.to_string())
            ))
        };
        let path: std::path::PathBuf = py
            .import("os")?
            .call_method1("fspath", (source,))
            .and_then(|p| p.extract())
            .map_err(|_| wrong())?;
        // OSError(errno, message) is raised as its subclass (FileNotFoundError, ...).
        let file = std::fs::File::open(&path).map_err(|e| {
            let msg = format!("cannot open {}: {e}", shown(&path));
            match e.raw_os_error() {
                Some(code) => PyOSError::new_err((code, msg)),
                None => PyOSError::new_err(msg),
            }
        })?;
        Ok(Self::File(file))
    }

    /// The source's size in bytes, when it is known before reading (not for file objects).
    pub(crate) fn size_hint(&self) -> Option<u64> {
        match self {
            Self::Bytes(b) => u64::try_from(b.as_bytes().len()).ok(),
            Self::Owned(v) => u64::try_from(v.len()).ok(),
            Self::File(f) => f.metadata().ok().map(|m| m.len()),
            Self::Object(_) => None,
        }
    }

    /// Runs `f` over the source with the interpreter released. When a file object's `.read`
    /// failed, its Python exception is raised instead of the core's error.
    pub(crate) fn read<T: Send>(
        self,
        py: Python<'py>,
        f: impl FnOnce(&mut (dyn Read + Send)) -> esr_core::Result<T> + Send,
        to_py: impl FnOnce(esr_core::Error) -> PyErr,
    ) -> PyResult<T> {
        match self {
            Self::Bytes(b) => {
                let mut data = b.as_bytes();
                py.detach(|| f(&mut data)).map_err(to_py)
            }
            Self::Owned(v) => {
                let mut data = v.as_slice();
                py.detach(|| f(&mut data)).map_err(to_py)
            }
            Self::File(mut file) => py.detach(|| f(&mut file)).map_err(to_py),
            Self::Object(mut reader) => {
                let out = py.detach(|| f(&mut reader));
                match (out, reader.error.take()) {
                    (Ok(v), _) => Ok(v),
                    (Err(_), Some(e)) => Err(e),
                    (Err(e), None) => Err(to_py(e)),
                }
            }
        }
    }
}

/// A binary Python file object as a Rust reader: each `read` takes the interpreter's lock,
/// calls `.read(n)` and copies the bytes out. A Python exception, or a result that is not
/// bytes, is kept in `error` (to raise in place of the core's error) and ends the reading.
pub(crate) struct PyReader {
    obj: Py<PyAny>,
    arg: &'static str,
    /// What went wrong on the Python side, if anything.
    pub(crate) error: Option<PyErr>,
}

impl PyReader {
    fn new(obj: Py<PyAny>, arg: &'static str) -> Self {
        Self {
            obj,
            arg,
            error: None,
        }
    }

    fn read_py(&self, py: Python<'_>, buf: &mut [u8]) -> PyResult<usize> {
        let got = self.obj.bind(py).call_method1("read", (buf.len(),))?;
        let copy = |data: &[u8], buf: &mut [u8]| {
            if data.len() > buf.len() {
                return Err(PyValueError::new_err(format!(
                    "argument '{}': read({}) returned {} bytes, more than asked for",
                    self.arg,
                    buf.len(),
                    data.len()
                )));
            }
            buf[..data.len()].copy_from_slice(data);
            Ok(data.len())
        };
        if let Ok(b) = got.cast::<PyBytes>() {
            return copy(b.as_bytes(), buf);
        }
        if let Ok(b) = got.cast::<PyByteArray>() {
            return copy(&b.to_vec(), buf);
        }
        let what = if got.is_instance_of::<PyString>() {
            "str: the file is open in text mode; open it in binary mode ('rb')".to_owned()
        } else if got.is_none() {
            "None (a non-blocking stream with no data ready?); give a blocking binary file"
                .to_owned()
        } else {
            format!(
                "{}; give a binary file object, whose read(n) returns bytes",
                got.get_type()
                    .name()
                    .map_or_else(|_| "something else".to_owned(), |n| n.to_string())
            )
        };
        Err(PyTypeError::new_err(format!(
            "argument '{}': read() returned {what}",
            self.arg
        )))
    }
}

impl Read for PyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        match Python::attach(|py| self.read_py(py, buf)) {
            Ok(n) => Ok(n),
            Err(e) => {
                let msg = e.to_string();
                self.error = Some(e);
                Err(std::io::Error::other(msg))
            }
        }
    }
}
