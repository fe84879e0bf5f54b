//! Temporary disk for uploads, shared by the bytes clients actually send.
//!
//! Every upload is spooled to a temporary file, and a second copy is made when its
//! metadata is stripped. The budget bounds the sum over all uploads in progress (default:
//! 16 full-size uploads, each twice), so a burst of large uploads gets 503s instead of
//! filling the pod's `/tmp` until the kubelet evicts it. Space is reserved as bytes arrive
//! (twice each byte, for the stripped copy), not per upload, so a client that trickles its
//! body holds only what it has sent and cannot starve anyone else.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Reservations are made in these units, so the semaphore's count stays small.
const UNIT_BYTES: u64 = 1024;

#[derive(Debug, Clone)]
pub struct SpoolBudget {
    units: Arc<Semaphore>,
    limit_bytes: u64,
    wait_limit: Duration,
}

/// Space reserved by one upload, released when the upload and its copies are gone.
#[derive(Debug)]
pub struct SpoolLease {
    budget: SpoolBudget,
    permits: Option<OwnedSemaphorePermit>,
    reserved_bytes: u64,
}

/// The spool has no room for more bytes within the wait limit.
#[derive(Debug, thiserror::Error)]
#[error("temporary upload space is exhausted")]
pub struct SpoolExhausted;

impl SpoolBudget {
    /// A budget of `limit_bytes`; a reservation waits at most `wait_limit` for room.
    pub fn new(limit_bytes: u64, wait_limit: Duration) -> Self {
        let units = usize::try_from(limit_bytes.div_ceil(UNIT_BYTES))
            .unwrap_or(usize::MAX)
            .min(Semaphore::MAX_PERMITS);
        metrics::gauge!("roster_upload_spool_limit_bytes").set(limit_bytes as f64);
        Self {
            units: Arc::new(Semaphore::new(units)),
            limit_bytes,
            wait_limit,
        }
    }

    pub fn limit_bytes(&self) -> u64 {
        self.limit_bytes
    }

    /// A lease holding nothing yet.
    pub fn lease(&self) -> SpoolLease {
        SpoolLease {
            budget: self.clone(),
            permits: None,
            reserved_bytes: 0,
        }
    }
}

impl SpoolLease {
    /// Makes sure the lease covers an upload of `upload_bytes` (and its stripped copy),
    /// waiting for room at most the budget's wait limit.
    pub async fn cover(&mut self, upload_bytes: u64) -> Result<(), SpoolExhausted> {
        let wanted_units = upload_bytes.saturating_mul(2).div_ceil(UNIT_BYTES);
        let held_units = self.reserved_bytes / UNIT_BYTES;
        if wanted_units <= held_units {
            return Ok(());
        }
        let more = u32::try_from(wanted_units - held_units).map_err(|_| SpoolExhausted)?;
        let units = Arc::clone(&self.budget.units);
        let permit = tokio::time::timeout(self.budget.wait_limit, units.acquire_many_owned(more))
            .await
            .map_err(|_| SpoolExhausted)?
            .map_err(|_| SpoolExhausted)?;
        match self.permits.as_mut() {
            Some(held) => held.merge(permit),
            None => self.permits = Some(permit),
        }
        let added = u64::from(more) * UNIT_BYTES;
        self.reserved_bytes += added;
        metrics::gauge!("roster_upload_spool_bytes").increment(added as f64);
        Ok(())
    }
}

impl Drop for SpoolLease {
    fn drop(&mut self) {
        if self.reserved_bytes > 0 {
            metrics::gauge!("roster_upload_spool_bytes").decrement(self.reserved_bytes as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lease_reserves_twice_what_arrived_and_returns_it_when_dropped() {
        let budget = SpoolBudget::new(10 * UNIT_BYTES, Duration::from_millis(50));
        let mut lease = budget.lease();
        lease.cover(2 * UNIT_BYTES).await.unwrap();
        lease.cover(2 * UNIT_BYTES).await.unwrap();
        assert_eq!(budget.units.available_permits(), 6);
        lease.cover(5 * UNIT_BYTES).await.unwrap();
        assert_eq!(budget.units.available_permits(), 0);
        drop(lease);
        assert_eq!(budget.units.available_permits(), 10);
    }

    #[tokio::test]
    async fn an_upload_past_the_room_left_waits_then_gives_up() {
        let budget = SpoolBudget::new(4 * UNIT_BYTES, Duration::from_millis(50));
        let mut first = budget.lease();
        first.cover(2 * UNIT_BYTES).await.unwrap();
        let mut second = budget.lease();
        assert!(second.cover(1).await.is_err());
        drop(first);
        second.cover(1).await.unwrap();
    }

    #[tokio::test]
    async fn many_slow_uploads_leave_room_for_a_fast_one() {
        let budget = SpoolBudget::new(100 * UNIT_BYTES, Duration::from_millis(50));
        let mut trickling: Vec<SpoolLease> = Vec::new();
        for _ in 0..64 {
            let mut lease = budget.lease();
            lease.cover(10).await.unwrap();
            trickling.push(lease);
        }
        let mut normal = budget.lease();
        normal.cover(10 * UNIT_BYTES).await.unwrap();
    }
}
