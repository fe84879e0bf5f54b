//! Temporary space for uploads.
//!
//! Every upload is spooled, and a second copy is made when its metadata is stripped.
//! Small uploads (the usual avatar) are spooled in memory, within a fixed pool that no
//! number of connections can grow: space there is taken as bytes arrive (twice each byte,
//! for the stripped copy) and never waited for, so a client that trickles its body holds
//! only what it has sent and cannot starve anyone else.
//!
//! An upload past [`IN_MEMORY_UPLOAD_BYTES`] (or one that finds the pool full) moves to a
//! temporary file, and reserves disk for the whole upload at once: twice its declared
//! length, or twice the avatar limit for a chunked body. The disk budget bounds the sum
//! over all file uploads (default: 16 full-size uploads, each twice), so a burst of large
//! uploads waits its turn (then gets 503s) instead of filling the pod's `/tmp` until the
//! kubelet evicts it. Reserving whole uploads, first come first served, is what keeps a
//! burst moving: uploads that each held part of what they need and waited for the rest
//! would hold the whole budget between them and wait for each other.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Reservations are made in these units, so the semaphore's count stays small.
const UNIT_BYTES: u64 = 1024;

/// Uploads up to this size may be spooled in memory.
pub const IN_MEMORY_UPLOAD_BYTES: u64 = 64 * 1024;

/// The memory that uploads spooled in memory (and their stripped copies) hold at most, all
/// together: 64 uploads at the in-memory limit, hundreds of usual avatars.
const MEMORY_POOL_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct SpoolBudget {
    units: Arc<Semaphore>,
    memory_units: Arc<Semaphore>,
    limit_bytes: u64,
    wait_limit: Duration,
}

/// Space reserved by one upload, released when the upload and its copies are gone.
#[derive(Debug)]
pub struct SpoolLease {
    budget: SpoolBudget,
    permits: Option<OwnedSemaphorePermit>,
    reserved_bytes: u64,
    memory_permits: Option<OwnedSemaphorePermit>,
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
            memory_units: Arc::new(Semaphore::new((MEMORY_POOL_BYTES / UNIT_BYTES) as usize)),
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
            memory_permits: None,
        }
    }
}

impl SpoolLease {
    /// Makes sure the lease covers a file upload of `upload_bytes` (and its stripped copy)
    /// on disk, waiting for room at most the budget's wait limit. What is missing is taken
    /// in one reservation, so a waiting upload holds nothing more until it has it all.
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

impl SpoolLease {
    /// Whether an upload of `upload_bytes` (and its stripped copy) may stay in memory: it
    /// is small enough and the memory pool has room now. Never waits. When it may not, what
    /// it holds in memory stays reserved until [`Self::leave_memory`].
    pub fn hold_in_memory(&mut self, upload_bytes: u64) -> bool {
        if upload_bytes > IN_MEMORY_UPLOAD_BYTES {
            return false;
        }
        let wanted = upload_bytes.saturating_mul(2).div_ceil(UNIT_BYTES);
        let held = self
            .memory_permits
            .as_ref()
            .map_or(0, |permits| permits.num_permits() as u64);
        if wanted <= held {
            return true;
        }
        let more = (wanted - held) as u32;
        match Arc::clone(&self.budget.memory_units).try_acquire_many_owned(more) {
            Ok(permit) => {
                match self.memory_permits.as_mut() {
                    Some(permits) => permits.merge(permit),
                    None => self.memory_permits = Some(permit),
                }
                true
            }
            Err(_) => false,
        }
    }

    /// The upload has moved to a file: its memory goes back to the pool.
    pub fn leave_memory(&mut self) {
        self.memory_permits = None;
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
    async fn small_uploads_stay_in_memory_only_while_the_pool_has_room() {
        let budget = SpoolBudget::new(u64::MAX / 2, Duration::from_millis(50));
        let mut small = budget.lease();
        assert!(small.hold_in_memory(10 * UNIT_BYTES));
        assert!(small.hold_in_memory(IN_MEMORY_UPLOAD_BYTES));
        assert!(
            !small.hold_in_memory(IN_MEMORY_UPLOAD_BYTES + 1),
            "one byte past the limit goes to a file"
        );
        small.leave_memory();
        assert_eq!(
            budget.memory_units.available_permits() as u64,
            MEMORY_POOL_BYTES / UNIT_BYTES,
            "leaving memory gives it back"
        );
        let uploads_that_fit = MEMORY_POOL_BYTES / (2 * IN_MEMORY_UPLOAD_BYTES);
        let mut held: Vec<SpoolLease> = (0..uploads_that_fit)
            .map(|_| {
                let mut lease = budget.lease();
                assert!(lease.hold_in_memory(IN_MEMORY_UPLOAD_BYTES));
                lease
            })
            .collect();
        let mut one_more = budget.lease();
        assert!(!one_more.hold_in_memory(1), "the pool is full");
        held.pop();
        assert!(one_more.hold_in_memory(1), "a finished upload makes room");
    }

    #[tokio::test]
    async fn many_slow_uploads_leave_room_for_a_fast_one() {
        let budget = SpoolBudget::new(100 * UNIT_BYTES, Duration::from_millis(50));
        let trickling: Vec<SpoolLease> = (0..64)
            .map(|_| {
                let mut lease = budget.lease();
                assert!(lease.hold_in_memory(10));
                lease
            })
            .collect();
        let mut normal = budget.lease();
        assert!(normal.hold_in_memory(10 * UNIT_BYTES));
        normal.cover(10 * UNIT_BYTES).await.unwrap();
        drop(trickling);
    }
}
