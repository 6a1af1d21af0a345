//! The language of what a person reads: `--lang`, else the environment's.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use propusk_verifier::Lang;

/// `--lang`: `en` or `ru`, offered as such in the help and completions.
pub fn lang_parser() -> impl clap::builder::TypedValueParser<Value = Lang> {
    PossibleValuesParser::new(["en", "ru"]).map(|l| l.parse::<Lang>().unwrap_or_default())
}

/// The language: the flag, else the environment's (`LC_ALL`, `LC_MESSAGES`, `LANG`).
pub fn lang(flag: Option<Lang>) -> Lang {
    flag.unwrap_or_else(|| {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|v| !v.is_empty())
            .map_or(Lang::En, |v| Lang::from_preference(&v))
    })
}
