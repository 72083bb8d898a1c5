//! Where the source lives: `--source`, the OCI source annotation, or the
//! main module path mapped to a repository URL.
