//! The orphan sweep: removes avatar objects that no user points at and that are older than
//! a grace period.
//!
//! Orphans have several sources, all of them rare: a process killed between a create's two
//! writes, a failed undo after a lost insert, a failed avatar removal after a delete. The
//! sweep finds them all the same way, so none needs a procedure of its own.
//!
//! Why it never removes the avatar of a user: the objects are listed first, and only those
//! older than the grace are candidates; a create that wrote one of them began before that,
//! and has finished or given up long before the users are read, because the grace is
//! several times the create's deadline (start-up refuses less). The users are then read
//! consistently, so every user stored by such a create is seen and its avatar kept.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use super::{Inner, UserService, measured};
use crate::domain::AvatarKey;
use crate::store::StoreError;

/// Users read per step of the sweep's pass over the table.
const USERS_PER_STEP: usize = 1000;

#[derive(Debug, Clone, Copy)]
pub struct SweepOptions {
    /// Only objects older than this are removed.
    pub grace: Duration,
    /// Report what would be removed, remove nothing.
    pub dry_run: bool,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    /// Objects older than the grace that no user points at.
    pub orphans: Vec<AvatarKey>,
    /// Those of them removed (none in a dry run).
    pub removed: Vec<AvatarKey>,
}

impl UserService {
    /// One sweep, now.
    pub async fn sweep_orphans(&self, options: SweepOptions) -> Result<SweepReport, StoreError> {
        let outcome = measured("sweep", self.inner.sweep(options)).await;
        let label = if outcome.is_ok() { "ok" } else { "failed" };
        metrics::counter!("roster_orphan_sweeps_total", "outcome" => label).increment(1);
        if let Ok(report) = &outcome {
            metrics::counter!("roster_orphans_found_total").increment(report.orphans.len() as u64);
            metrics::counter!("roster_orphans_removed_total")
                .increment(report.removed.len() as u64);
        }
        outcome
    }

    /// Sweeps every `interval` until shutdown begins. The first sweep waits a random part of
    /// the interval, so replicas started together do not sweep together.
    pub fn spawn_periodic_sweep(&self, interval: Duration, grace: Duration) {
        let service = self.clone();
        let stopping = self.inner.stopping.clone();
        let first = interval.mul_f64(rand_fraction());
        tokio::spawn(async move {
            let mut wait = first;
            loop {
                tokio::select! {
                    () = stopping.cancelled() => return,
                    () = tokio::time::sleep(wait) => {}
                }
                let options = SweepOptions {
                    grace,
                    dry_run: false,
                };
                match service.sweep_orphans(options).await {
                    Ok(report) if !report.orphans.is_empty() => tracing::info!(
                        found = report.orphans.len(),
                        removed = report.removed.len(),
                        "orphan sweep removed avatars no user points at"
                    ),
                    Ok(_) => tracing::debug!("orphan sweep found nothing"),
                    Err(error) => tracing::warn!(
                        error = %crate::telemetry::ErrorChain(&error),
                        "orphan sweep failed; the next one will try again"
                    ),
                }
                wait = interval;
            }
        });
    }
}

impl Inner {
    async fn sweep(&self, options: SweepOptions) -> Result<SweepReport, StoreError> {
        let cutoff = SystemTime::now()
            .checked_sub(options.grace)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let mut candidates = HashSet::new();
        let mut continuation = None;
        loop {
            let page = self.avatars.list(continuation).await?;
            candidates.extend(
                page.objects
                    .iter()
                    .filter(|object| object.modified <= cutoff)
                    .map(|object| object.key),
            );
            continuation = page.next;
            if continuation.is_none() {
                break;
            }
        }
        if candidates.is_empty() {
            return Ok(SweepReport::default());
        }
        let mut after = None;
        loop {
            let page = self.users.list_page(after.as_ref(), USERS_PER_STEP).await?;
            for user in &page.users {
                candidates.remove(&user.avatar);
            }
            after = page.next;
            if after.is_none() || candidates.is_empty() {
                break;
            }
        }
        let mut orphans: Vec<AvatarKey> = candidates.into_iter().collect();
        orphans.sort_by_key(AvatarKey::to_string);
        let mut removed = Vec::new();
        if !options.dry_run {
            for key in &orphans {
                if self.remove_avatar(key).await {
                    removed.push(*key);
                }
            }
        }
        Ok(SweepReport { orphans, removed })
    }
}

/// A fraction in [0, 1) that differs between processes, for jitter; not for anything that
/// needs real randomness.
fn rand_fraction() -> f64 {
    let bits = uuid::Uuid::new_v4().as_u128() >> 75;
    bits as f64 / (1u64 << 53) as f64
}
