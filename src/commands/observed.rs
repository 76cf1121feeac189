//! Detection as the loop sees it. [`Observed`] wraps the detector for `once` and `run`: it
//! marks the round busy (a reload waits for it), tells the monitors a round started, and
//! counts each provider's outcome in the metrics. A bare [`Detector`] is a `Detect` too.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::watch;

use crate::daemon::Detect;
use crate::detect::{DetectError, Detected, Detector, Family};
use crate::metrics::Metrics;
use crate::notify::Notifier;

pub struct Observed {
    pub detector: Detector,
    pub metrics: Arc<Metrics>,
    pub notifier: Option<Notifier>,
    pub busy: watch::Sender<bool>,
}

/// The outcome label of one provider's failure.
fn failure_label(e: &DetectError) -> (Option<&str>, &'static str) {
    match e {
        DetectError::Failed { provider, .. } => (Some(provider), "failed"),
        DetectError::WrongFamily { provider, .. } => (Some(provider), "wrong_family"),
        DetectError::Timeout { provider, .. } => (Some(provider), "timeout"),
        DetectError::NotGlobal { provider, .. } => (Some(provider), "not_global"),
        DetectError::Filtered { provider, .. } => (Some(provider), "filtered"),
        DetectError::NoProvider(_)
        | DetectError::AllFailed { .. }
        | DetectError::NoAgreement { .. } => (None, "failed"),
    }
}

impl Detect for Observed {
    async fn detect(&self, families: &[Family]) -> BTreeMap<Family, Detected> {
        self.busy.send_replace(true);
        self.metrics.round_started();
        if let Some(n) = &self.notifier {
            n.round_started();
        }
        let report = self.detector.detect_all().await;
        let mut found = BTreeMap::new();
        for family in families {
            let fam = family.to_string();
            match report.get(*family) {
                Some(Ok(d)) => {
                    // The providers before the one that answered were tried and failed.
                    for name in self
                        .detector
                        .provider_names(*family)
                        .iter()
                        .take_while(|n| **n != d.provider)
                    {
                        self.metrics.detection(&fam, name, "failed");
                    }
                    self.metrics.detection(&fam, &d.provider, "ok");
                    found.insert(*family, d.detected());
                }
                Some(Err(DetectError::AllFailed { failures, .. })) => {
                    for f in failures {
                        if let (Some(p), outcome) = failure_label(f) {
                            self.metrics.detection(&fam, p, outcome);
                        }
                    }
                }
                Some(Err(e)) => {
                    if let (Some(p), outcome) = failure_label(e) {
                        self.metrics.detection(&fam, p, outcome);
                    }
                }
                None => {}
            }
        }
        found
    }
}

impl Detect for Detector {
    async fn detect(&self, families: &[Family]) -> BTreeMap<Family, Detected> {
        let report = self.detect_all().await;
        // extend, not collect: BTreeMap's FromIterator sorts (a stable sort per type).
        let mut found = BTreeMap::new();
        found.extend(families.iter().filter_map(|f| match report.get(*f) {
            Some(Ok(d)) => Some((*f, d.detected())),
            _ => None,
        }));
        found
    }
}
