//! Running at scale: a watch list of images ([`watchlist`]), the plan of
//! jobs it makes against the registries ([`plan`]; [`job`] defines a job
//! and the plan document), the plan emitted for the engines that run it
//! ([`emit`]) or run here ([`run`]), and the ledger of verdicts
//! ([`ledger`]) published as a static site ([`site`]).

pub mod emit;
pub mod job;
pub mod ledger;
pub mod plan;
pub mod run;
pub mod site;
pub mod watchlist;
