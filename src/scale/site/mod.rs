//! The ledger published as a static site: `index.html` (a row per image
//! and version, a cell per platform), a history page and a badge per
//! image, `ledger.json`, and the runs' reports and attestations. Plain
//! HTML with inline CSS: readable from disk, no script, no server.

pub mod badge;
pub mod history;
pub mod html;
pub mod index;
pub mod model;
pub mod publish;
pub mod slug;
pub mod version;

pub use model::{aggregate, Ledger, Totals, LEDGER_SCHEMA};
pub use publish::{write_site, SiteError, MARKER};
