//! The ledger: what `run` writes per job (`LEDGER/jobs/<id>/entry.json`
//! and the files beside it), read back and checked; and the same records
//! read from the signed attestations in registries (`attested`).

pub mod attested;
pub mod entry;
pub mod read;

pub use entry::{Entry, Record, Source, ENTRY_SCHEMA};
pub use read::{read_ledger, LedgerError};
