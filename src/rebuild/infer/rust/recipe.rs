//! The Rust recipe of each candidate: `cargo fetch`, then `cargo
//! [auditable] build` of the binary target for each platform's target
//! triple, as the schema's value and written under its comment header.

use std::collections::{BTreeMap, BTreeSet};

use super::binary::Libc;
use super::targets::BinTarget;
use crate::image::platform::Platform;
use crate::rebuild::infer::candidate::{Candidate, InferError};
use crate::rebuild::infer::recipe::{template, with_header};
use crate::rebuild::recipe::schema::{ArtifactSpec, BuildSpec, Builder, ImageSpec, SourceSpec};
use crate::rebuild::recipe::template::{Scope, Template};
use crate::rebuild::recipe::RecipeSpec;

/// The recipe's Cargo home: under `/cache`, so what `fetch` downloads is
/// there for `command`.
pub const CARGO_HOME: &str = "/cache/cargo";

/// What every candidate shares.
pub struct RecipeParts<'a> {
    pub rustc: &'a str,
    pub image: ImageSpec,
    pub source: SourceSpec,
    /// `host`, or the builder image.
    pub builder: &'a str,
    pub target: &'a BinTarget,
    /// Each platform, its C library and its target triple (`None`: the
    /// builder's own).
    pub targets: &'a [(Platform, Libc, Option<String>)],
    /// Upstream's build directory, when the binary shows one.
    pub workdir: Option<&'a str>,
    /// The binary carries cargo-auditable data.
    pub has_dep_v0: bool,
}

impl RecipeParts<'_> {
    pub fn candidate(&self, auditable: bool, remap: Option<&str>) -> Result<Candidate, InferError> {
        let mut command: Vec<String> = vec!["cargo".into()];
        if auditable {
            command.push("auditable".into());
        }
        command.extend(["build", "--release", "--locked", "--offline"].map(String::from));
        if !self.target.dir.is_empty() {
            command.extend(["--package".into(), self.target.package.clone()]);
        }
        command.extend(["--bin".into(), self.target.name.clone()]);

        let mut label = format!(
            "cargo {}build --release --locked --bin {}",
            if auditable { "auditable " } else { "" },
            self.target.name
        );
        if let Some(home) = remap {
            label.push_str(&format!(", {CARGO_HOME} remapped to {home}"));
        }
        if self.has_dep_v0 && !auditable {
            label.push_str(" (without cargo-auditable: differs by .dep-v0 at least)");
        }

        let no_inputs = BTreeSet::new();
        let build_template = |text: &str| {
            template(
                text,
                Scope::Build {
                    declared: &no_inputs,
                },
            )
        };
        let argv = |args: &[String]| -> Result<Vec<Template>, InferError> {
            args.iter().map(|arg| build_template(arg)).collect()
        };
        let mut platforms = BTreeMap::new();
        for (platform, libc, triple) in self.targets {
            let mut rustflags = Vec::new();
            if *libc == Libc::GnuStatic {
                rustflags.push("-C target-feature=+crt-static".to_string());
            }
            if let Some(home) = remap {
                rustflags.push(format!("--remap-path-prefix={CARGO_HOME}={home}"));
            }
            let mut env = BTreeMap::new();
            if let Some(triple) = triple {
                env.insert("CARGO_BUILD_TARGET".to_string(), build_template(triple)?);
            }
            if !rustflags.is_empty() {
                env.insert(
                    "RUSTFLAGS".to_string(),
                    build_template(&rustflags.join(" "))?,
                );
            }
            platforms.insert(platform.clone(), env);
        }
        let recipe = RecipeSpec {
            image: self.image.clone(),
            source: self.source.clone(),
            inputs: BTreeMap::new(),
            build: BuildSpec {
                builder: match self.builder {
                    "host" => Builder::Host,
                    image => Builder::Image(build_template(image)?),
                },
                fetch: Some(argv(&["cargo", "fetch", "--locked"].map(String::from))?),
                command: argv(&command)?,
                output: ArtifactSpec::CargoBin(self.target.name.clone()),
                env: BTreeMap::from([("CARGO_HOME".to_string(), build_template(CARGO_HOME)?)]),
                platforms,
                workdir: self.workdir.map(build_template).transpose()?,
                source_date_epoch: None,
                run_as_root: false,
            },
            published: None,
        };
        let text = with_header(
            recipe.to_document(),
            &format!(
                "# Inferred by rebuild-compare from the image binary: rustc {}, binary target {}.\n",
                self.rustc, self.target.name
            ),
        );
        Ok(Candidate {
            label,
            text,
            recipe,
            binary_only: Vec::new(),
            changes: Vec::new(),
        })
    }
}
