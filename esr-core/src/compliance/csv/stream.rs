//! The competence export streamed into the bulk scorer: [`CsvHoldings`] reads the export in
//! blocks ([`read_competence_blocks`]) and hands each block's holdings to the scorer as they
//! are merged, so an export goes to scores in one pass without keeping its records.

use super::*;
use crate::compliance::{HoldingColumns, HoldingParts, NO_EXPIRY};
use std::collections::HashMap;
use std::sync::Mutex;

/// An ESR competence export read as the bulk scorer's holdings ([`HoldingParts`]), for
/// [`crate::compliance::score_compliance_parts`]: the same rows as [`read_competence_table`]
/// reads, matched as `score_compliance` matches the table it returns: `person_id` is the
/// employee number as an integer, and a competence matches a requirement whose competency id
/// is exactly its name in the pipe form (`NHS|CSTF|Fire Safety - 1 Year|`), given here as
/// `competency_ids` (each name to the id the requirements use). Records of a competence no
/// requirement names count for nothing and are let go, as are records that expired before the
/// date scored; nothing per record is kept. The export can be read once.
pub struct CsvHoldings<R> {
    reader: Mutex<Option<R>>,
    vpd: VpdCode,
    options: ImportOptions,
    encoding: CsvEncoding,
    competency_ids: HashMap<String, i64>,
    /// What the reading gave back: the bad rows skipped and the encoding read.
    read: Mutex<Option<(ImportProblems, &'static str)>>,
}

impl<R: std::io::Read + Send> CsvHoldings<R> {
    /// The export in `reader`, for requirements whose competency ids are `competency_ids`.
    pub fn new(
        reader: R,
        vpd: VpdCode,
        options: ImportOptions,
        encoding: CsvEncoding,
        competency_ids: HashMap<String, i64>,
    ) -> Self {
        Self {
            reader: Mutex::new(Some(reader)),
            vpd,
            options,
            encoding,
            competency_ids,
            read: Mutex::new(None),
        }
    }

    /// After scoring: the bad rows skipped (with `skip_bad_rows`) and the encoding read;
    /// `None` before the export has been read.
    pub fn outcome(&self) -> Option<(ImportProblems, &'static str)> {
        self.read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

impl<R: std::io::Read + Send> HoldingParts<i64> for CsvHoldings<R> {
    fn rows_hint(&self) -> Option<usize> {
        None
    }

    fn each_part(
        &self,
        workers: usize,
        as_of_days: i32,
        f: &(dyn Fn(usize, HoldingColumns<'_, i64>) + Sync),
    ) -> Result<()> {
        let reader = self
            .reader
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .ok_or_else(|| {
                Error::invalid(
                    "competence export",
                    "it has already been read; open it again",
                )
            })?;
        // Each competence value's requirement id (None: no requirement names it), by key.
        let mut ids: Vec<Option<i64>> = Vec::new();
        let (mut person, mut competency, mut expiry) = (Vec::new(), Vec::new(), Vec::new());
        let mut sink = |t: &CompetenceExportTable| -> Result<()> {
            let new = t.competence.values.get(ids.len()..).unwrap_or_default();
            ids.extend(new.iter().map(|v| self.competency_ids.get(v).copied()));
            person.clear();
            competency.clear();
            expiry.clear();
            for ((&p, &k), &e) in t.person_id.iter().zip(&t.competence.keys).zip(&t.expiry) {
                let Some(Some(c)) = ids.get(k as usize) else {
                    continue;
                };
                let e = e.unwrap_or(NO_EXPIRY);
                // Expired before the date scored: counts for nothing.
                if e < as_of_days {
                    continue;
                }
                person.push(p);
                competency.push(*c);
                expiry.push(e);
            }
            if !person.is_empty() {
                // One merging thread hands every block on: worker 0's masks take them all.
                f(
                    0,
                    HoldingColumns {
                        person_id: &person,
                        competency_id: &competency,
                        expiry: &expiry,
                        expiry_validity: None,
                        // The one-pass path scores by position only (no minimum levels).
                        level: None,
                    },
                );
            }
            Ok(())
        };
        let out = read_competence_blocks(
            self.vpd,
            reader,
            self.options,
            self.encoding,
            workers,
            &mut sink,
        )?;
        *self
            .read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(out);
        Ok(())
    }
}
