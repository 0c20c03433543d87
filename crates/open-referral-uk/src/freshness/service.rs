//! Freshness commands on a running [`Live`] marketplace: confirm, report, review, and (feature
//! `freshness`) the website checks on the marketplace's clock.

use serde_json::{Value, json};

use super::record::FreshnessRecord;
use super::rules;
use crate::live::core::Principal;
use crate::live::{Live, LiveError};

impl Live {
    /// The provider (or an administrator after a manual review) confirms listing `id` is
    /// still correct (see [`rules::confirm`]).
    pub async fn confirm_fresh(&self, principal: &Principal, id: &str) -> Result<(), LiveError> {
        self.run(|core, now| Ok((rules::confirm(core, principal, id, now)?, ())))
            .await
    }

    /// A public report that listing `id` is out of date (see [`rules::report`]).
    pub async fn report_out_of_date(&self, id: &str, reason: &str) -> Result<(), LiveError> {
        self.run(|core, now| Ok((rules::report(core, id, reason, now)?, ())))
            .await
    }

    /// The freshness record of listing `id`, if any.
    pub async fn freshness(&self, id: &str) -> Option<FreshnessRecord> {
        self.read(|core| rules::record(core, id)).await
    }

    /// The due-for-review queue as JSON (`id`, `name`, `owner`, `due_since`), oldest first.
    pub async fn review_due(&self) -> Vec<Value> {
        self.read(|core| {
            rules::review_queue(core)
                .into_iter()
                .map(|(l, since)| {
                    json!({
                        "id": l.service.id,
                        "name": l.service.name,
                        "owner": l.owner,
                        "state": l.state,
                        "due_since": since,
                    })
                })
                .collect()
        })
        .await
    }
}

#[cfg(feature = "freshness")]
mod checks {
    use std::sync::Arc;
    use std::time::Duration as StdDuration;

    use super::super::fetch::Checker;
    use super::super::rules::{self, CheckOutcome, CheckSummary};
    use super::super::snapshot::Snapshot;
    use crate::live::{Live, LiveError};

    /// Outcomes committed together.
    const BATCH: usize = 64;

    impl Live {
        /// Checks every website due at the clock's time through `checker` (one request at a
        /// time per host, politely) and records the outcomes in batches as they arrive:
        /// suspensions with the provider's notification, baselines, retries.
        pub async fn check_websites(
            &self,
            checker: &Arc<Checker>,
        ) -> Result<CheckSummary, LiveError> {
            let now = self.now();
            let due = self.read(|core| rules::due_checks(core, now)).await;
            let mut results =
                checker.fetch_many(due.into_iter().map(|d| (d.service_id, d.url)).collect());
            let mut summary = CheckSummary::default();
            let mut batch = Vec::with_capacity(BATCH);
            loop {
                let next = results.recv().await;
                let finished = next.is_none();
                if let Some((id, url, observation)) = next {
                    let snapshot = Snapshot::of(&observation);
                    batch.push(CheckOutcome::new(id, url, now, snapshot));
                    if batch.len() < BATCH {
                        continue;
                    }
                }
                if !batch.is_empty() {
                    let outcomes = std::mem::take(&mut batch);
                    let part = self
                        .run(|core, now| rules::record_checks(core, &outcomes, now))
                        .await?;
                    summary = summary.plus(part);
                }
                if finished {
                    return Ok(summary);
                }
            }
        }

        /// Spawns the website-check loop: every `every`, check what is due at the clock's
        /// time ([`Live::check_websites`]). Abort the handle to stop it.
        pub fn spawn_website_checks(
            self: &Arc<Self>,
            checker: Arc<Checker>,
            every: StdDuration,
        ) -> tokio::task::JoinHandle<()> {
            let live = Arc::clone(self);
            tokio::spawn(async move {
                let mut interval = tokio::time::interval(every);
                loop {
                    interval.tick().await;
                    match live.check_websites(&checker).await {
                        Ok(summary) => tracing::info!(?summary, "website checks done"),
                        Err(error) => tracing::warn!(%error, "website checks failed"),
                    }
                }
            })
        }
    }
}
