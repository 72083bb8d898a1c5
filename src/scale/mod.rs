//! Running at scale: a watch list of images ([`watchlist`]), the plan of
//! jobs it makes against the registries ([`plan`]; [`job`] defines a job
//! and the plan document), and the plan emitted for the engines that run
//! it ([`emit`]).

pub mod emit;
pub mod job;
pub mod plan;
pub mod watchlist;
