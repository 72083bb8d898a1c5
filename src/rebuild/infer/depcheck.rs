//! The dependency cross-check: the binary's recorded dependencies against
//! the tag's lock files (`go.sum`/`go.mod`/`vendor/modules.txt`,
//! `Cargo.lock`), without building.
