//! Attestations of a verification: the in-toto statement a verdict makes,
//! the keys that sign it and the DSSE envelope that carries the signature.

pub mod dsse;
pub mod keys;
pub mod statement;

pub use statement::{
    statement, AttestOptions, Statement, DEFAULT_VERIFIER_ID, PREDICATE_TYPE,
    REPRODUCED_GIVEN_INPUTS_LEVEL, REPRODUCED_LEVEL, STATEMENT_TYPE,
};
