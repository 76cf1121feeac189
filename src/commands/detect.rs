//! `ddflare detect`: the public address each enabled family's providers see, printed.
//! `--json`: the same for scripts.

use super::exit::Verdict;
use super::out::say;
use crate::detect::{Detector, Family};
use crate::text::bounded;

/// The longest failure shown, in characters: room for every provider of a list.
const ERROR_MAX: usize = 2000;

pub async fn detect(detector: &Detector, json: bool) -> Verdict {
    let mut any = false;
    let mut families = serde_json::Map::new();
    for family in Family::ALL {
        let key = match family {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        };
        if !detector.families().contains(&family) {
            if json {
                families.insert(key.into(), found(false, None, None, None));
            } else {
                say!("{family}: off");
            }
            continue;
        }
        match detector.detect(family).await {
            Ok(d) => {
                any = true;
                let provider = bounded(&d.provider, ERROR_MAX);
                if json {
                    let addr = d.addr.to_string();
                    families.insert(key.into(), found(true, Some(addr), Some(provider), None));
                } else {
                    say!("{family}: {} (from {provider})", d.addr);
                }
            }
            // The providers' answers are escaped where they are quoted; this keeps any other
            // outside text in an error on its line too.
            Err(e) => {
                let error = bounded(&e.to_string(), ERROR_MAX);
                if json {
                    families.insert(key.into(), found(true, None, None, Some(error)));
                } else {
                    say!("{family}: failed: {error}");
                }
            }
        }
    }
    if json {
        say!("{:#}", serde_json::Value::Object(families));
    }
    any.into()
}

/// One family in `detect --json`: whether it is on, and what was found or why not.
fn found(
    enabled: bool,
    address: Option<String>,
    provider: Option<String>,
    error: Option<String>,
) -> serde_json::Value {
    serde_json::json!({
        "enabled": enabled,
        "address": address,
        "provider": provider,
        "error": error,
    })
}
