//! `ddflare detect`: the public address each enabled family's providers see, printed.

use super::exit::Verdict;
use super::out::say;
use crate::detect::{Detector, Family};

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
                say!("{family}: {} (from {})", d.addr, d.provider);
            }
            Err(e) => say!("{family}: failed: {e}"),
        }
    }
    any.into()
}
