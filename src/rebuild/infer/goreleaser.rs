//! `.goreleaser.yml`/`.goreleaser.yaml` at the tag: its builds' flags,
//! ldflags, env and tags, with goreleaser's templates filled in.
