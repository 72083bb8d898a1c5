//! The plan as a shell script: one `rebuild-compare verify …` line per
//! job, every argument quoted for POSIX shells.

use crate::scale::job::Plan;

/// Why a plan cannot be written as shell.
#[derive(Debug, thiserror::Error)]
#[error("job {id} has an argument no shell can quote (a NUL byte): {argument:?}")]
pub struct ShellError {
    id: String,
    argument: String,
}

/// `rebuild-compare ARGS…` per job, in plan order, after a comment line.
pub fn script(plan: &Plan) -> Result<String, ShellError> {
    let mut out = format!(
        "# rebuild-compare {} plan of {}: {} jobs\n",
        plan.tool_version,
        plan.created,
        plan.jobs.len()
    );
    for job in &plan.jobs {
        let words = std::iter::once("rebuild-compare").chain(job.args.iter().map(String::as_str));
        let line = shlex::try_join(words).map_err(|_| ShellError {
            id: job.id.clone(),
            argument: job
                .args
                .iter()
                .find(|a| a.contains('\0'))
                .cloned()
                .unwrap_or_default(),
        })?;
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}
