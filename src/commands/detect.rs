//! `ddflare detect`: the public address each enabled family's providers see, printed.

use super::exit::Verdict;
use super::out::say;
use crate::detect::{Detector, Family};
use crate::text::bounded;

/// The longest failure shown, in characters: room for every provider of a list.
const ERROR_MAX: usize = 2000;

pub async fn detect(detector: &Detector) -> Verdict {
    let mut any = false;
    for family in Family::ALL {
        if !detector.families().contains(&family) {
            say!("{family}: off");
            continue;
        }
        match detector.detect(family).await {
            Ok(d) => {
                any = true;
                say!(
                    "{family}: {} (from {})",
                    d.addr,
                    bounded(&d.provider, ERROR_MAX)
                );
            }
            // The providers' answers are escaped where they are quoted; this keeps any other
            // outside text in an error on its line too.
            Err(e) => say!("{family}: failed: {}", bounded(&e.to_string(), ERROR_MAX)),
        }
    }
    any.into()
}
