//! Python bindings of esr: a thin adapter over `esr-core` that converts types and errors and
//! adds nothing the core lacks. The Python package is `esr`; this module is `esr._esr`.

mod authenticator;
mod bulk;
mod csv_source;
mod delivery;
mod errors;
mod frames;
mod learning;
mod notify;
mod service;
mod types;
mod workflows;

/// Every Rust allocation of the extension module (see Cargo.toml for why).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use errors::to_py;
use esr_core::{
    access::AccessContext, access::Channel, org::TrustSettings, urp::Function, urp::Urp,
};
use pyo3::prelude::*;
use std::collections::BTreeSet;

/// An ESR username, such as 297ECONROY01.
#[pyclass(frozen, eq, hash, module = "esr._esr")]
#[derive(PartialEq, Eq, Hash)]
struct Username(esr_core::Username);

#[pymethods]
impl Username {
    /// Parses a username; raises InvalidInputError with the reason when it is not one.
    #[new]
    fn new(text: &str) -> PyResult<Self> {
        text.parse().map(Self).map_err(to_py)
    }

    /// The trust's three-digit VPD code.
    #[getter]
    fn vpd(&self) -> String {
        self.0.vpd().to_string()
    }

    /// The initial-and-surname part.
    #[getter]
    fn stem(&self) -> String {
        self.0.stem().to_owned()
    }

    /// The sequence number.
    #[getter]
    fn sequence(&self) -> u16 {
        self.0.sequence()
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self) -> String {
        format!("Username('{}')", self.0)
    }
}

/// A UK mobile number. It prints masked (xxxxxxx374); the full number is only reachable
/// through expose_e164(), for handing to an SMS gateway.
#[pyclass(frozen, eq, hash, module = "esr._esr")]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct MobileNumber(pub(crate) esr_core::MobileNumber);

#[pymethods]
impl MobileNumber {
    /// Parses a UK mobile number as people type it; raises InvalidInputError otherwise.
    #[new]
    fn new(text: &str) -> PyResult<Self> {
        text.parse().map(Self).map_err(to_py)
    }

    /// The number as ESR shows it: xxxxxxx374.
    #[getter]
    fn masked(&self) -> String {
        self.0.masked()
    }

    /// The full number in E.164 form. Only for an SMS gateway: never log it.
    fn expose_e164(&self) -> String {
        self.0.expose_e164().to_owned()
    }

    fn __str__(&self) -> String {
        self.0.masked()
    }

    fn __repr__(&self) -> String {
        format!("MobileNumber('{}')", self.0.masked())
    }
}

/// The initial-and-surname stem a person's username is built from (SEAN O'BRIEN -> SOBRIEN).
#[pyfunction]
fn username_stem(given_name: &str, surname: &str) -> PyResult<String> {
    esr_core::values::username::UsernameStem::from_names(given_name, surname)
        .map(|s| s.as_str().to_owned())
        .map_err(to_py)
}

/// The names of every URP in the catalogue.
#[pyfunction]
fn urp_names() -> Vec<&'static str> {
    Urp::ALL.iter().map(|u| u.name()).collect()
}

/// The functions a user may use, from the URPs they hold (by name), the channel ("hscn" or
/// "internet"), whether the session is upgraded, and the trust's settings.
#[pyfunction]
#[pyo3(signature = (urps, channel, *, upgraded=false, automatic_internet_access=false,
                    upgrade_manager=false, upgrade_professional=false,
                    internet_access_approved=false))]
#[allow(clippy::too_many_arguments)]
fn allowed_functions(
    urps: Vec<String>,
    channel: &str,
    upgraded: bool,
    automatic_internet_access: bool,
    upgrade_manager: bool,
    upgrade_professional: bool,
    internet_access_approved: bool,
) -> PyResult<Vec<&'static str>> {
    let held = urps
        .iter()
        .map(|u| u.parse::<Urp>())
        .collect::<Result<BTreeSet<_>, _>>()
        .map_err(to_py)?;
    let channel: Channel = channel.parse().map_err(to_py)?;
    let settings = TrustSettings {
        automatic_internet_access,
        upgrade_access: esr_core::org::UpgradeAccess {
            manager: upgrade_manager,
            professional: upgrade_professional,
        },
        ..TrustSettings::default()
    };
    let ctx = AccessContext {
        held: &held,
        channel,
        upgraded,
        settings: &settings,
        internet_access: esr_core::access::has_internet_access(
            &held,
            &settings,
            internet_access_approved,
        ),
    };
    Ok(esr_core::access::allowed_functions(&ctx)
        .into_iter()
        .map(Function::name)
        .collect())
}

/// The compiled part of the esr package.
#[pymodule]
fn _esr(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    types::register(m)?;
    delivery::register(m)?;
    learning::register(m)?;
    notify::register(m)?;
    workflows::register(m)?;
    service::register(m)?;
    authenticator::register(m)?;
    m.add_class::<Username>()?;
    m.add_class::<MobileNumber>()?;
    m.add_function(wrap_pyfunction!(username_stem, m)?)?;
    m.add_function(wrap_pyfunction!(urp_names, m)?)?;
    m.add_function(wrap_pyfunction!(allowed_functions, m)?)?;
    bulk::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
