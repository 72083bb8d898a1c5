//! `-X` targets: package-level string variables in the tag's Go source
//! named like a version, commit or date, for `-ldflags -X` candidates.
