//! Rendering of computed results for people: turns the plain data produced
//! by the library stages (e.g. [`crate::diff::BinaryDiff`]) into terminal
//! text, and a verification into markdown for a CI run's summary. Nothing
//! here computes; JSON output is `serde_json` of the data.

pub mod attestation;
pub mod diff;
pub mod digest;
pub mod inspect;
pub mod markdown;
mod units;
pub mod verify;
