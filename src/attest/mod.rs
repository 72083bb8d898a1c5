//! Attestations of a verification: the in-toto statement a verdict makes,
//! the keys that sign it and the DSSE envelope that carries the signature,
//! attaching it next to the image in the registry, and checking the
//! attestations attached there.

pub mod attach;
pub mod check;
pub mod decide;
pub mod dsse;
pub mod keys;
pub mod layout;
pub mod lookup;
pub mod statement;

pub use statement::{
    covers_every_platform, index_statement, platform_statements, AttestOptions, Statement,
    DEFAULT_VERIFIER_ID, PREDICATE_TYPE, REPRODUCED_GIVEN_INPUTS_LEVEL, REPRODUCED_LEVEL,
    STATEMENT_TYPE,
};
