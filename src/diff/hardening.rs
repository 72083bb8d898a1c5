//! Hardening one file has and the other lacks, from the functions each
//! imports: `-D_FORTIFY_SOURCE`'s checked functions (`__printf_chk` in
//! place of `printf`) and `-fstack-protector`'s `__stack_chk_fail`.
//!
//! Derived from the files' dynamic symbol tables only: it names what each
//! file imports, never what its code does with it.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::binary::Import;

/// The compiler option a hardening import comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hardening {
    /// `-D_FORTIFY_SOURCE`: `__<function>_chk`.
    Fortify,
    /// `-fstack-protector`: `__stack_chk_fail`, `__stack_chk_guard`.
    StackProtector,
}

impl Hardening {
    /// The hardening `name` is an import of, if any.
    pub fn of(name: &str) -> Option<Self> {
        if matches!(name, "__stack_chk_fail" | "__stack_chk_guard") {
            return Some(Self::StackProtector);
        }
        unchecked(name).map(|_| Self::Fortify)
    }

    /// The option that differs when only one file has this hardening.
    pub fn option(self) -> &'static str {
        match self {
            Self::Fortify => "-D_FORTIFY_SOURCE",
            Self::StackProtector => "-fstack-protector",
        }
    }
}

/// The names of `imports`.
fn names(imports: &[Import]) -> BTreeSet<&str> {
    imports.iter().map(|i| i.name.as_str()).collect()
}

/// The function a checked one stands in for: `printf` for `__printf_chk`.
fn unchecked(name: &str) -> Option<&str> {
    let inner = name.strip_prefix("__")?.strip_suffix("_chk")?;
    (!inner.is_empty() && !inner.starts_with('_')).then_some(inner)
}

/// Hardening imports only one file has, and the unchecked functions they
/// stand in for that only the other file imports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardeningDiff {
    /// Checked and stack-protector functions only A imports.
    pub only_a: Vec<Import>,
    /// Checked and stack-protector functions only B imports.
    pub only_b: Vec<Import>,
    /// Functions only A imports whose checked form only B imports
    /// (`printf` where B has `__printf_chk`).
    pub unchecked_only_a: Vec<String>,
    /// Functions only B imports whose checked form only A imports.
    pub unchecked_only_b: Vec<String>,
}

impl HardeningDiff {
    /// The hardening imports of A and B compared by name; `None` when
    /// both files import the same ones.
    pub fn of(a: &[Import], b: &[Import]) -> Option<Self> {
        let (names_a, names_b) = (names(a), names(b));
        let only = |x: &[Import], other: &BTreeSet<&str>| -> Vec<Import> {
            x.iter()
                .filter(|i| Hardening::of(&i.name).is_some() && !other.contains(i.name.as_str()))
                .cloned()
                .collect()
        };
        let (only_a, only_b) = (only(a, &names_b), only(b, &names_a));
        if only_a.is_empty() && only_b.is_empty() {
            return None;
        }
        // `printf` only here, where the other file imports `__printf_chk`.
        let stood_in_for = |here: &BTreeSet<&str>, there: &BTreeSet<&str>, checked: &[Import]| {
            let names: BTreeSet<String> = checked
                .iter()
                .filter_map(|c| unchecked(&c.name))
                .filter(|name| here.contains(name) && !there.contains(name))
                .map(str::to_string)
                .collect();
            names.into_iter().collect::<Vec<String>>()
        };
        Some(Self {
            unchecked_only_a: stood_in_for(&names_a, &names_b, &only_b),
            unchecked_only_b: stood_in_for(&names_b, &names_a, &only_a),
            only_a,
            only_b,
        })
    }

    /// The strings hardening puts into A's file (`a_side`) or B's alone:
    /// the names of the hardening functions only it imports, of the
    /// unchecked functions the other file's stand in for, and the symbol
    /// versions those hardening functions require.
    pub fn texts(&self, a_side: bool) -> impl Iterator<Item = &str> {
        let (hardened, unchecked) = if a_side {
            (&self.only_a, &self.unchecked_only_a)
        } else {
            (&self.only_b, &self.unchecked_only_b)
        };
        hardened
            .iter()
            .flat_map(|i| std::iter::once(i.name.as_str()).chain(i.version.as_deref()))
            .chain(unchecked.iter().map(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(name: &str, version: &str) -> Import {
        Import {
            name: name.to_string(),
            version: Some(version.to_string()),
        }
    }

    #[test]
    fn checked_functions_one_file_imports_in_place_of_the_others_are_named() {
        let a = [
            import("__printf_chk", "GLIBC_2.3.4"),
            import("__stack_chk_fail", "GLIBC_2.4"),
            import("puts", "GLIBC_2.2.5"),
        ];
        let b = [
            import("__stack_chk_fail", "GLIBC_2.4"),
            import("printf", "GLIBC_2.2.5"),
            import("puts", "GLIBC_2.2.5"),
        ];
        let diff = HardeningDiff::of(&a, &b).expect("a difference");
        assert_eq!(diff.only_a, vec![import("__printf_chk", "GLIBC_2.3.4")]);
        assert_eq!(diff.only_b, Vec::<Import>::new());
        assert_eq!(diff.unchecked_only_b, vec!["printf"]);
        assert_eq!(
            diff.texts(true).collect::<Vec<_>>(),
            vec!["__printf_chk", "GLIBC_2.3.4"]
        );
        assert_eq!(diff.texts(false).collect::<Vec<_>>(), vec!["printf"]);
    }

    #[test]
    fn the_same_hardening_on_both_sides_is_no_difference() {
        let both = [import("__memcpy_chk", "GLIBC_2.3.4")];
        assert_eq!(HardeningDiff::of(&both, &both), None);
        assert_eq!(
            Hardening::of("__stack_chk_fail"),
            Some(Hardening::StackProtector)
        );
        assert_eq!(Hardening::of("__chk_fail"), None);
        assert_eq!(Hardening::of("___chk"), None);
    }
}
