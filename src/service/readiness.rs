//! Whether the service can take traffic: both stores answer, and shutdown has not begun.
//! Answers are cached briefly and shared by concurrent probes, so probes from many kubelets
//! and load balancers cost the backend at most one check of each store per interval.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::observe::measured;
use crate::store::{AvatarStore, StoreError, UserTable};

/// What a readiness question covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadinessScope {
    /// The users table and the avatar store.
    Everything,
    /// The users table only: reads are served and creates answer 503 by themselves while
    /// only the avatar store is down, so a traffic probe need not take the pod out.
    Users,
}

/// Why the service is not ready.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    #[error("the service is shutting down")]
    ShuttingDown,
    #[error("the users table does not answer")]
    Users(#[source] Arc<StoreError>),
    #[error("the avatar store does not answer")]
    Avatars(#[source] Arc<StoreError>),
}

#[derive(Clone)]
struct Answer {
    checked_at: Instant,
    users: Result<(), Arc<StoreError>>,
    avatars: Result<(), Arc<StoreError>>,
}

pub struct Readiness {
    users: Arc<dyn UserTable>,
    avatars: Arc<dyn AvatarStore>,
    shutting_down: AtomicBool,
    last_answer: Mutex<Option<Answer>>,
    ttl: Duration,
}

impl Readiness {
    pub fn new(users: Arc<dyn UserTable>, avatars: Arc<dyn AvatarStore>, ttl: Duration) -> Self {
        Self {
            users,
            avatars,
            shutting_down: AtomicBool::new(false),
            last_answer: Mutex::new(None),
            ttl,
        }
    }

    /// From now on the service reports not ready, so load balancers stop sending traffic
    /// while in-flight requests finish.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    pub async fn check(&self, scope: ReadinessScope) -> Result<(), NotReady> {
        if self.is_shutting_down() {
            return Err(NotReady::ShuttingDown);
        }
        let answer = self.answer().await;
        answer.users.map_err(NotReady::Users)?;
        if scope == ReadinessScope::Everything {
            answer.avatars.map_err(NotReady::Avatars)?;
        }
        Ok(())
    }

    async fn answer(&self) -> Answer {
        // Holding the lock while checking makes concurrent probes share one check.
        let mut last_answer = self.last_answer.lock().await;
        if let Some(answer) = last_answer.as_ref()
            && answer.checked_at.elapsed() < self.ttl
        {
            return answer.clone();
        }
        let (users, avatars) = tokio::join!(
            measured("check_ready", self.users.check_ready()),
            measured("check_ready", self.avatars.check_ready()),
        );
        metrics::gauge!("roster_store_ready", "check" => "users")
            .set(f64::from(u8::from(users.is_ok())));
        metrics::gauge!("roster_store_ready", "check" => "avatars")
            .set(f64::from(u8::from(avatars.is_ok())));
        let answer = Answer {
            checked_at: Instant::now(),
            users: users.map_err(Arc::new),
            avatars: avatars.map_err(Arc::new),
        };
        *last_answer = Some(answer.clone());
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_double::{ScriptedAvatars, ScriptedUsers};

    fn readiness(
        users: &Arc<ScriptedUsers>,
        avatars: &Arc<ScriptedAvatars>,
        ttl: Duration,
    ) -> Readiness {
        Readiness::new(users.clone(), avatars.clone(), ttl)
    }

    #[tokio::test]
    async fn concurrent_probes_share_one_store_check() {
        let users = Arc::new(ScriptedUsers::new(0, None));
        let avatars = Arc::new(ScriptedAvatars::default());
        let readiness = readiness(&users, &avatars, Duration::from_secs(60));
        let checks = (0..10).map(|_| readiness.check(ReadinessScope::Everything));
        for result in futures_util::future::join_all(checks).await {
            assert!(result.is_ok());
        }
        assert_eq!(users.readiness_checks(), 1);
        assert_eq!(avatars.readiness_checks(), 1);
    }

    #[tokio::test]
    async fn a_stale_answer_is_checked_again() {
        let users = Arc::new(ScriptedUsers::new(0, None));
        let avatars = Arc::new(ScriptedAvatars::default());
        let readiness = readiness(&users, &avatars, Duration::ZERO);
        readiness.check(ReadinessScope::Everything).await.unwrap();
        readiness.check(ReadinessScope::Everything).await.unwrap();
        assert_eq!(users.readiness_checks(), 2);
    }

    #[tokio::test]
    async fn a_failing_users_table_is_not_ready_in_any_scope() {
        let users = Arc::new(ScriptedUsers::new(0, None).unready());
        let avatars = Arc::new(ScriptedAvatars::default());
        let readiness = readiness(&users, &avatars, Duration::from_secs(60));
        for scope in [ReadinessScope::Everything, ReadinessScope::Users] {
            assert!(matches!(
                readiness.check(scope).await,
                Err(NotReady::Users(_))
            ));
        }
    }

    #[tokio::test]
    async fn a_failing_avatar_store_fails_only_the_full_check() {
        let users = Arc::new(ScriptedUsers::new(0, None));
        let avatars = Arc::new(ScriptedAvatars::default().unready());
        let readiness = readiness(&users, &avatars, Duration::from_secs(60));
        assert!(matches!(
            readiness.check(ReadinessScope::Everything).await,
            Err(NotReady::Avatars(_))
        ));
        assert!(readiness.check(ReadinessScope::Users).await.is_ok());
    }

    #[tokio::test]
    async fn shutdown_makes_readiness_fail_at_once_without_asking_the_stores() {
        let users = Arc::new(ScriptedUsers::new(0, None));
        let avatars = Arc::new(ScriptedAvatars::default());
        let readiness = readiness(&users, &avatars, Duration::from_secs(60));
        readiness.check(ReadinessScope::Everything).await.unwrap();
        readiness.begin_shutdown();
        for scope in [ReadinessScope::Everything, ReadinessScope::Users] {
            assert!(matches!(
                readiness.check(scope).await,
                Err(NotReady::ShuttingDown)
            ));
        }
        assert_eq!(users.readiness_checks(), 1);
    }
}
