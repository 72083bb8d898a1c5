//! A job: one image digest, release and platform verified with one recipe
//! by one tool version; its id (the ledger's key), the arguments that run
//! it, and the plan document listing jobs (`rebuild-compare-plan/1`).

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::image::digest::Digest;
use crate::image::reference::Reference;
use crate::rebuild::recipe::pinned::is_sha256_hex;

/// The `schema` of a plan document.
pub const PLAN_SCHEMA: &str = "rebuild-compare-plan/1";
/// This tool's version: a plan (and a job id) is for one version.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One verification to run: `verify IMAGE@DIGEST VERSION --platform P [--recipe R]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Job {
    /// [`job_id`] of the fields below and the tool version.
    pub id: String,
    /// `registry/repository`, normalised.
    pub image: String,
    /// The tag it was listed as.
    pub tag: String,
    /// `sha256:…`: the tag's manifest (the index, for a multi-platform image).
    pub digest: String,
    /// The release to rebuild (the tag, as written).
    pub version: String,
    /// `os/arch[/variant]`.
    pub platform: String,
    /// `builtin:NAME.toml`, a path as given in the watch list, or `None`:
    /// no recipe covers the image and one is inferred.
    pub recipe: Option<String>,
    pub recipe_sha256: Option<String>,
    /// The arguments after `rebuild-compare` that run the job, without output paths.
    pub args: Vec<String>,
}

/// The recipe a job uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecipe {
    /// What the plan records: `builtin:NAME.toml` or the path as written.
    pub label: String,
    /// What `--recipe` is given: the label, or the path from where the plan ran.
    pub argument: String,
    /// sha256 (hex) of the recipe file's bytes.
    pub sha256: String,
}

/// Why a job or a plan document cannot be made or read.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// A tag outside the OCI grammar: a registry that lists one is hostile
    /// or broken, and the tag must never reach a command line.
    #[error("{image} lists the tag {tag:?}, which is not a valid OCI tag ([A-Za-z0-9_][A-Za-z0-9._-]{{0,127}}); refusing to plan it: check what the registry serves")]
    InvalidTag { image: String, tag: String },
    /// A platform with characters outside `[a-z0-9._-]` in a part.
    #[error("{image}:{tag} lists the platform {platform:?}, which is not os/arch[/variant] of [a-z0-9._-]; refusing to plan it")]
    InvalidPlatform {
        image: String,
        tag: String,
        platform: String,
    },
    /// An image that is not a repository's normalised name (`registry/repository`).
    #[error("the job's image {image:?} is not a normalised repository name (registry/repository, no tag or digest)")]
    InvalidImage { image: String },
    /// A digest that is not `sha256:` and 64 lowercase hex digits.
    #[error("{image} has the digest {digest:?}, which is not sha256: and 64 lowercase hex digits")]
    InvalidDigest { image: String, digest: String },
    /// A recipe digest that is not 64 lowercase hex digits: it would not
    /// name the recipe's bytes, and `inferred` would take an inferred job's id.
    #[error("the recipe {recipe} has the sha256 {sha256:?}, which is not 64 lowercase hex digits")]
    InvalidRecipeSha256 { recipe: String, sha256: String },
    /// The plan document is not JSON of the plan schema.
    #[error("the plan is not a {PLAN_SCHEMA} document: {0}; make it with `rebuild-compare plan WATCHLIST --emit json`")]
    Malformed(String),
    /// Another schema.
    #[error("the plan's schema is {found:?}, and this rebuild-compare reads {PLAN_SCHEMA}; re-plan with this version")]
    Schema { found: String },
    /// Planned by another version: its job ids would not match this one's ledger entries.
    #[error("the plan was made by rebuild-compare {planned}, and this is {TOOL_VERSION}; re-plan with this version (`rebuild-compare plan WATCHLIST`) or run it with {planned}")]
    ToolVersion { planned: String },
}

/// `id` of a job: the first 32 hex digits of the sha256 of
/// `rebuild-compare-job/1\n{image}@{digest}\n{version}\n{platform}\n{recipe sha256 or "inferred"}\n{tool version}\n`.
pub fn job_id(
    image: &str,
    digest: &str,
    version: &str,
    platform: &str,
    recipe_sha256: Option<&str>,
    tool_version: &str,
) -> String {
    let text = format!(
        "rebuild-compare-job/1\n{image}@{digest}\n{version}\n{platform}\n{}\n{tool_version}\n",
        recipe_sha256.unwrap_or("inferred")
    );
    let mut id = hex::encode(Sha256::digest(text.as_bytes()));
    id.truncate(32);
    id
}

impl Job {
    /// The job verifying `image@digest`, listed as `tag`, at release `tag`
    /// for `platform` with `recipe` (inferred when `None`), by this tool
    /// version. The tag and platform come from a registry, so they are
    /// checked against their grammars before they reach any argument; the
    /// image, digest and recipe sha256 against theirs, so that the id's
    /// text is of one job only.
    pub fn new(
        image: &str,
        tag: &str,
        digest: &str,
        platform: &str,
        recipe: Option<&JobRecipe>,
    ) -> Result<Self, JobError> {
        if !is_valid_tag(tag) {
            return Err(JobError::InvalidTag {
                image: image.to_string(),
                tag: tag.to_string(),
            });
        }
        if !is_valid_platform(platform) {
            return Err(JobError::InvalidPlatform {
                image: image.to_string(),
                tag: tag.to_string(),
                platform: platform.to_string(),
            });
        }
        if Reference::parse(image).map(|r| r.name()).ok().as_deref() != Some(image) {
            return Err(JobError::InvalidImage {
                image: image.to_string(),
            });
        }
        if Digest::parse(digest).is_err() {
            return Err(JobError::InvalidDigest {
                image: image.to_string(),
                digest: digest.to_string(),
            });
        }
        if let Some(recipe) = recipe.filter(|r| !is_sha256_hex(&r.sha256)) {
            return Err(JobError::InvalidRecipeSha256 {
                recipe: recipe.label.clone(),
                sha256: recipe.sha256.clone(),
            });
        }
        let recipe_sha256 = recipe.map(|r| r.sha256.clone());
        let mut args = vec![
            "verify".to_string(),
            format!("{image}@{digest}"),
            tag.to_string(),
            "--platform".to_string(),
            platform.to_string(),
        ];
        if let Some(recipe) = recipe {
            args.extend(["--recipe".to_string(), recipe.argument.clone()]);
        }
        Ok(Self {
            id: job_id(
                image,
                digest,
                tag,
                platform,
                recipe_sha256.as_deref(),
                TOOL_VERSION,
            ),
            image: image.to_string(),
            tag: tag.to_string(),
            digest: digest.to_string(),
            version: tag.to_string(),
            platform: platform.to_string(),
            recipe: recipe.map(|r| r.label.clone()),
            recipe_sha256,
            args,
        })
    }

    /// The `--recipe` value its arguments pass, if any (a value, not an option).
    pub fn recipe_argument(&self) -> Option<&str> {
        let at = self.args.iter().position(|a| a == "--recipe")?;
        self.args
            .get(at + 1)
            .map(String::as_str)
            .filter(|r| !r.starts_with('-'))
    }
}

/// Whether `tag` is in the OCI distribution grammar `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`
/// (so it holds no shell, YAML or expression metacharacter).
pub fn is_valid_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    first_ok
        && tag.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Whether `platform` is `os/arch[/variant]` with each part of `[a-z0-9._-]`.
fn is_valid_platform(platform: &str) -> bool {
    let parts: Vec<&str> = platform.split('/').collect();
    (2..=3).contains(&parts.len())
        && parts.iter().all(|part| {
            !part.is_empty()
                && part.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
                })
        })
}

/// A plan: the jobs to run, for one tool version (`plan --emit json`, the input of `run`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Plan {
    /// [`PLAN_SCHEMA`].
    pub schema: String,
    /// The version that planned it ([`TOOL_VERSION`]).
    pub tool_version: String,
    /// When it was planned, RFC 3339 UTC to the second.
    pub created: String,
    pub jobs: Vec<Job>,
}

impl Plan {
    /// A plan of `jobs` by this tool version, made at `created`.
    pub fn new(jobs: Vec<Job>, created: SystemTime) -> Self {
        Self {
            schema: PLAN_SCHEMA.to_string(),
            tool_version: TOOL_VERSION.to_string(),
            created: humantime::format_rfc3339_seconds(created).to_string(),
            jobs,
        }
    }

    /// Reads a plan document, refusing another schema or another tool version.
    pub fn from_json(text: &str) -> Result<Self, JobError> {
        #[derive(Deserialize)]
        struct Head {
            schema: String,
            tool_version: String,
        }
        let head: Head =
            serde_json::from_str(text).map_err(|e| JobError::Malformed(e.to_string()))?;
        if head.schema != PLAN_SCHEMA {
            return Err(JobError::Schema { found: head.schema });
        }
        if head.tool_version != TOOL_VERSION {
            return Err(JobError::ToolVersion {
                planned: head.tool_version,
            });
        }
        serde_json::from_str(text).map_err(|e| JobError::Malformed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    #[test]
    fn job_id_is_the_documented_hash_prefix() {
        let text = "rebuild-compare-job/1\n127.0.0.1:5000/tools/crictl@sha256:abc\nv1.20.0\nlinux/amd64\ninferred\n0.1.0\n";
        let expected = &hex::encode(Sha256::digest(text.as_bytes()))[..32];
        assert_eq!(
            job_id(
                "127.0.0.1:5000/tools/crictl",
                "sha256:abc",
                "v1.20.0",
                "linux/amd64",
                None,
                "0.1.0"
            ),
            expected
        );
    }

    #[test]
    fn a_job_with_a_recipe_passes_it_and_hashes_it() {
        let recipe = JobRecipe {
            label: "recipes/app.toml".into(),
            argument: "watch/recipes/app.toml".into(),
            sha256: "ff".repeat(32),
        };
        let job = Job::new(
            "docker.io/rancher/crictl",
            "v1.20.0",
            DIGEST,
            "linux/arm64",
            Some(&recipe),
        )
        .unwrap();
        let pinned = format!("docker.io/rancher/crictl@{DIGEST}");
        assert_eq!(
            job.args,
            [
                "verify",
                &pinned,
                "v1.20.0",
                "--platform",
                "linux/arm64",
                "--recipe",
                "watch/recipes/app.toml"
            ]
        );
        assert_eq!(job.recipe.as_deref(), Some("recipes/app.toml"));
        assert_eq!(job.recipe_argument(), Some("watch/recipes/app.toml"));
        assert_eq!(
            job.id,
            job_id(
                "docker.io/rancher/crictl",
                DIGEST,
                "v1.20.0",
                "linux/arm64",
                Some(&"ff".repeat(32)),
                TOOL_VERSION
            )
        );
    }

    #[test]
    fn no_job_takes_the_id_of_another() {
        // A recipe "digest" of `inferred` would hash as the inferred job does.
        let inferred = Job::new("docker.io/r/x", "v1", DIGEST, "linux/amd64", None).unwrap();
        let posing = JobRecipe {
            label: "evil.toml".into(),
            argument: "evil.toml".into(),
            sha256: "inferred".into(),
        };
        assert!(matches!(
            Job::new("docker.io/r/x", "v1", DIGEST, "linux/amd64", Some(&posing)),
            Err(JobError::InvalidRecipeSha256 { .. })
        ));
        assert_eq!(inferred.recipe_argument(), None);
        // Moving the `@` between image and digest, or a line break into
        // either, would make another job's id text.
        for (image, digest) in [
            ("docker.io/r/x@sha256", DIGEST),
            ("docker.io/r/x:v1", DIGEST),
            ("docker.io/r/x\nv1", DIGEST),
            ("docker.io/r/x", "sha256:abc"),
            ("docker.io/r/x", "sha256:abc\nv1"),
        ] {
            assert!(
                matches!(
                    Job::new(image, "v1", digest, "linux/amd64", None),
                    Err(JobError::InvalidImage { .. } | JobError::InvalidDigest { .. })
                ),
                "{image:?} {digest:?} accepted"
            );
        }
    }

    #[test]
    fn tags_outside_the_oci_grammar_are_refused() {
        for bad in [
            "",
            "-v1",
            ".v1",
            "v1;rm -rf /",
            "v1$(id)",
            "v1`id`",
            "v1 2",
            "v1\n",
            "v1'",
            "v1\"",
            "${{ secrets.X }}",
            "v1+build",
            "v1/x",
            "v1:x",
            &"a".repeat(129),
            "vé",
        ] {
            assert!(!is_valid_tag(bad), "{bad:?} accepted");
            assert!(matches!(
                Job::new("r/x", bad, "sha256:abc", "linux/amd64", None),
                Err(JobError::InvalidTag { .. })
            ));
        }
        for good in [
            "v1.20.0",
            "1.0",
            "_x",
            "latest",
            "V1-rc.1_2",
            &"a".repeat(128),
        ] {
            assert!(is_valid_tag(good), "{good:?} refused");
        }
    }

    #[test]
    fn platforms_outside_their_grammar_are_refused() {
        for bad in [
            "linux",
            "linux/amd64$(id)",
            "linux//x",
            "Linux/amd64",
            "a/b/c/d",
        ] {
            assert!(
                matches!(
                    Job::new("r/x", "v1", "sha256:abc", bad, None),
                    Err(JobError::InvalidPlatform { .. })
                ),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn a_plan_of_another_tool_version_or_schema_is_refused() {
        let plan = Plan::new(Vec::new(), SystemTime::UNIX_EPOCH);
        assert_eq!(plan.created, "1970-01-01T00:00:00Z");
        let text = serde_json::to_string(&plan).unwrap();
        assert_eq!(Plan::from_json(&text).unwrap(), plan);
        let other = text.replace(TOOL_VERSION, "0.0.0-other");
        let err = Plan::from_json(&other).unwrap_err().to_string();
        assert!(
            err.contains("0.0.0-other") && err.contains(TOOL_VERSION),
            "{err}"
        );
        let schema = text.replace(PLAN_SCHEMA, "rebuild-compare-plan/9");
        assert!(matches!(
            Plan::from_json(&schema),
            Err(JobError::Schema { .. })
        ));
        assert!(matches!(Plan::from_json("{"), Err(JobError::Malformed(_))));
    }
}
