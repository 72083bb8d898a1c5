//! The integration tests, one module per topic, in one test binary so the
//! shared harness (`support`, `layer_fixtures`) is compiled and linked once.
//! Run one topic with e.g. `cargo test --test it verify::`.
//!
//! All modules share this process and run concurrently: a test must not
//! change process-wide state (environment variables, current directory);
//! it passes its settings to the processes it starts instead. Only the
//! peak-memory test lives in its own binary (`tests/rootfs_memory.rs`),
//! because it measures the whole process's peak RSS.

mod layer_fixtures;
mod support;

mod action;
mod adjust;
mod architecture;
mod archive;
mod attest_sign;
mod attestation;
mod build;
mod causes;
mod cli_options;
mod debian_build;
mod debian_image;
mod diff;
mod digest;
mod docs_links;
mod fallback;
mod harness;
mod infer;
mod infer_cgo;
mod infer_rust;
mod inspect;
mod ledger_site;
mod linking;
mod locate;
mod mirrors;
mod packaged;
mod packages;
mod plan;
mod recipes;
mod registry_faults;
mod registry_hostile;
mod registry_push;
mod rootfs;
mod run;
mod source;
mod verify;
