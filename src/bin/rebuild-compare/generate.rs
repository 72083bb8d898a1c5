//! `rebuild-compare --generate KIND`: the man page and the shell
//! completions, made from the command line's own clap definitions.

use std::io::Write;

use clap::{CommandFactory, ValueEnum};
use clap_complete::Shell;

use crate::cli::Cli;

/// What `--generate` prints: the man page (roff), or the completion
/// script of bash, zsh or fish. The variants carry no doc comments, which
/// clap would show as value descriptions, turning `--help` into long help.
#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
pub enum Kind {
    Man,
    CompleteBash,
    CompleteZsh,
    CompleteFish,
}

/// Writes `kind` for the command line to `out`. Made in memory first:
/// `clap_complete` panics when its writer fails (a closed pipe).
pub fn generate(kind: Kind, out: &mut impl Write) -> anyhow::Result<()> {
    let mut command = Cli::command();
    let name = command.get_name().to_string();
    let mut text = Vec::new();
    let shell = match kind {
        Kind::Man => None,
        Kind::CompleteBash => Some(Shell::Bash),
        Kind::CompleteZsh => Some(Shell::Zsh),
        Kind::CompleteFish => Some(Shell::Fish),
    };
    match shell {
        Some(shell) => clap_complete::generate(shell, &mut command, name, &mut text),
        None => clap_mangen::Man::new(command).render(&mut text)?,
    }
    out.write_all(&text)?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{generate, Kind};

    fn generated(kind: Kind) -> String {
        let mut out = Vec::new();
        generate(kind, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_man_page_names_every_command() {
        let man = generated(Kind::Man);
        assert!(man.starts_with(".ie \\n(.g .ds Aq \\(aq"), "{man}");
        assert!(man.contains(".TH rebuild-compare 1"), "{man}");
        for command in [
            "verify",
            "inspect",
            "digest",
            "extract",
            "build",
            "diff",
            "recipe",
            "key",
            "attestation",
            "plan",
            "run",
            "ledger",
        ] {
            assert!(
                man.contains(&format!("rebuild\\-compare\\-{command}(1)")),
                "{command}: {man}"
            );
        }
    }

    #[test]
    fn completions_offer_the_commands_and_their_options() {
        let bash = generated(Kind::CompleteBash);
        assert!(bash.contains("complete -F _rebuild__compare"), "{bash}");
        assert!(bash.contains("--platform"), "{bash}");
        assert!(bash.contains("attestation"), "{bash}");
        let zsh = generated(Kind::CompleteZsh);
        assert!(zsh.starts_with("#compdef rebuild-compare"), "{zsh}");
        assert!(zsh.contains("--platform"), "{zsh}");
        let fish = generated(Kind::CompleteFish);
        assert!(fish.contains("complete -c rebuild-compare"), "{fish}");
        assert!(fish.contains("-l platform"), "{fish}");
    }
}
