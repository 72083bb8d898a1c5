//! A plan as the engines that run it read it: a GitHub Actions matrix or
//! whole workflow ([`github`]), a Kubernetes Indexed Job ([`k8s`]), shell
//! command lines ([`shell`]). (The plan's own JSON is serde of
//! [`super::job::Plan`].) Tags come from registries: every emitter passes
//! them only as data (quoted words, YAML values, environment variables).

pub mod github;
pub mod k8s;
pub mod shell;
