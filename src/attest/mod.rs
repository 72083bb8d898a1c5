//! Attestations of a verification: the in-toto statement a verdict makes,
//! and (as the issue-16 work lands) its signing, attaching and checking.

pub mod statement;

pub use statement::{
    statement, AttestOptions, Statement, DEFAULT_VERIFIER_ID, PREDICATE_TYPE,
    REPRODUCED_GIVEN_INPUTS_LEVEL, REPRODUCED_LEVEL, STATEMENT_TYPE,
};
