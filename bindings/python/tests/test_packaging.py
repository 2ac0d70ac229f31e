"""The installed package says what a wheel needs to (issue 20): its dependencies, licence files,
URLs and classifiers; and the licence copies beside pyproject.toml are the repository's."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_licence_copies_match_the_repository_root() -> None:
    for name in ("LICENSE-MIT", "LICENSE-APACHE"):
        assert (ROOT / "bindings/python" / name).read_bytes() == (ROOT / name).read_bytes(), name


def test_metadata_declares_dependencies_licence_urls_and_classifiers() -> None:
    md = metadata.metadata("esr")
    requires = md.get_all("Requires-Dist") or []
    assert any(r.startswith("pyarrow") and "extra" not in r for r in requires)
    assert any(r.startswith("polars") and "extra == 'polars'" in r for r in requires)
    assert any(r.startswith("pandas") and "extra == 'pandas'" in r for r in requires)
    assert md["License-Expression"] == "MIT OR Apache-2.0"
    assert set(md.get_all("License-File") or []) == {"LICENSE-MIT", "LICENSE-APACHE"}
    urls = dict(u.split(", ", 1) for u in md.get_all("Project-URL") or [])
    assert {"Homepage", "Repository", "Changelog"} <= set(urls)
    classifiers = md.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers and "Programming Language :: Rust" in classifiers
    assert "For analysts" in (md.get_payload() or "")  # type: ignore[attr-defined]


def test_every_public_function_class_and_method_says_what_it_does() -> None:
    # help(esr.score_files) once showed nothing: its doc comment had drifted onto a private
    # helper in the Rust source. Every public name of the module, and every public method of
    # its classes, has a docstring.
    import inspect

    import esr

    undocumented = []
    for name in esr.__all__ if hasattr(esr, "__all__") else dir(esr):
        if name.startswith("_"):
            continue
        obj = getattr(esr, name)
        if not (inspect.isclass(obj) or callable(obj)) or inspect.ismodule(obj):
            continue
        if not (obj.__doc__ or "").strip():
            undocumented.append(name)
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            for attr, member in vars(obj).items():
                if attr.startswith("_") or not callable(member):
                    continue
                if not (getattr(member, "__doc__", None) or "").strip():
                    undocumented.append(f"{name}.{attr}")
    assert not undocumented, f"no docstring: {undocumented}"
