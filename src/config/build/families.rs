//! Which address families a record gets: what it asks for (its own `ipv4`/`ipv6`, else
//! `[defaults]`) and what `[detect]` has providers for. A record left with none is an error
//! saying why for each family; asking for a family that is off gets a warning.

use std::collections::BTreeSet;

use super::super::context::{Ctx, Src};
use super::super::error::ConfigError;
use super::super::raw::RawRecord;
use super::super::values::Problem;
use super::detect::Detect;

/// Which families have providers, and where that was said.
pub(super) struct Families {
    v4: bool,
    v6: bool,
    v4_src: Option<Src>,
    v6_src: Option<Src>,
    /// The names a `[[push.client]]` may update.
    pushed: BTreeSet<String>,
}

/// A record's `ipv4 = true` / `ipv6 = true`, when written in the record itself.
pub(super) struct Explicit {
    v4: Option<Src>,
    v6: Option<Src>,
}

impl Explicit {
    /// The families record `k` turns on itself.
    pub fn of(r: &RawRecord, k: &str) -> Explicit {
        Explicit {
            v4: r
                .ipv4
                .as_ref()
                .filter(|s| *s.get_ref())
                .map(|s| Src::file(format!("{k}.ipv4"), s.span())),
            v6: r
                .ipv6
                .as_ref()
                .filter(|s| *s.get_ref())
                .map(|s| Src::file(format!("{k}.ipv6"), s.span())),
        }
    }
}

impl Families {
    pub fn of(detect: &Detect, pushed: BTreeSet<String>) -> Families {
        Families {
            v4: !detect.config.ipv4.is_empty(),
            v6: !detect.config.ipv6.is_empty(),
            v4_src: detect.ipv4_src.clone(),
            v6_src: detect.ipv6_src.clone(),
            pushed,
        }
    }

    /// Whether detection has providers for IPv4 and for IPv6.
    pub fn detected(&self) -> (bool, bool) {
        (self.v4, self.v6)
    }

    /// The record's effective families; an error when none is left.
    pub fn check(
        &self,
        ctx: &mut Ctx<'_>,
        src: &Src,
        name: &str,
        want4: bool,
        want6: bool,
        explicit: Option<Explicit>,
    ) -> Result<(bool, bool), ConfigError> {
        let pushed = self.pushed.contains(name);
        let v4 = want4 && (self.v4 || pushed);
        let v6 = want6 && (self.v6 || pushed);
        if let Some(ex) = explicit {
            for (asked, on, fam, detect_key) in [
                (ex.v4, self.v4, "IPv4", "detect.ipv4"),
                (ex.v6, self.v6, "IPv6", "detect.ipv6"),
            ] {
                if let Some(asked) = asked
                    && !on
                    && !pushed
                {
                    ctx.warn(
                        &asked,
                        &format!("has no effect: {fam} is off because {detect_key} is \"none\""),
                        None,
                    );
                }
            }
        }
        if v4 || v6 {
            return Ok((v4, v6));
        }
        let why = |want: bool, fam: &str, key: &str, src: &Option<Src>| {
            if !want {
                format!("{fam} is off ({} = false)", fam.to_ascii_lowercase())
            } else {
                let at = match src {
                    Some(Src::Env { var, .. }) => var.to_string(),
                    _ => key.to_owned(),
                };
                format!("{fam} is off ({at} is \"none\")")
            }
        };
        let message = format!(
            "expected at least one address family, found none: {} and {}",
            why(want4, "IPv4", "detect.ipv4", &self.v4_src),
            why(want6, "IPv6", "detect.ipv6", &self.v6_src)
        );
        Err(ctx.err(
            src,
            Problem::new(message).hint("set ipv4 = true or ipv6 = true for this record, or give providers for that family in [detect]"),
        ))
    }
}
