//! Running at scale: the jobs of many images' releases, and the ledger of
//! their verdicts published as a static site.

pub mod job;
pub mod ledger;
pub mod site;
