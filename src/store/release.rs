//! Handing leases back on a graceful shutdown: an article leased to a worker
//! that will not complete it (the server is stopping) goes back to the front
//! of the queue at once, without counting the attempt against it, instead of
//! waiting for its lease to expire after the restart.

use super::records::{TreeId, Writes};
use super::{be, decode, encode, pair_key, Inner, Lease, Store, StoreError};
use crate::domain::{now_millis, ArticleId, ArticleState};

impl Store {
    /// Returns every held lease to the queue; the number released. Completing
    /// a released lease afterwards is refused as not held.
    pub async fn release_leases(&self) -> Result<usize, StoreError> {
        let released = super::blocking(&self.inner, Inner::release_all_leases).await?;
        if released > 0 {
            self.inner.committer.flush().await?;
            self.inner.work_available.notify_waiters();
        }
        Ok(released)
    }
}

impl Inner {
    fn release_all_leases(&self) -> Result<usize, StoreError> {
        let _writer = self
            .writer
            .lock()
            .map_err(|_| StoreError::Task("writer lock poisoned".into()))?;
        let now = now_millis();
        let held: Vec<(sled::IVec, sled::IVec)> =
            self.trees.leases.iter().collect::<Result<_, _>>()?;
        let mut released = 0;
        for (article_key, lease_bytes) in held {
            let lease: Lease = decode(&lease_bytes)?;
            let article_id = ArticleId(super::read_u64(&article_key)?);
            let mut status = self.article_status(article_id)?;
            status.state = ArticleState::Queued;
            status.attempts = lease.attempt.saturating_sub(1);
            status.updated_at_ms = now;
            let mut writes = Writes::default();
            writes.remove(TreeId::Leases, be(article_id.0));
            writes.remove(
                TreeId::LeaseDeadlines,
                pair_key(lease.deadline_ms, article_id.0),
            );
            writes.insert(TreeId::Queue, pair_key(now, article_id.0), []);
            writes.insert(TreeId::Articles, be(article_id.0), encode(&status)?);
            self.commit(&writes)?;
            released += 1;
        }
        Ok(released)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{article, config};
    use std::time::Duration;

    #[tokio::test]
    async fn released_leases_are_leasable_at_once_after_a_reopen_without_losing_an_attempt() {
        let directory = tempfile::tempdir().expect("temp dir");
        let store = Store::open(config(directory.path())).await.expect("open");
        let first = store.enqueue(article("một", None)).await.expect("enqueue");
        store.enqueue(article("hai", None)).await.expect("enqueue");
        let hour = Duration::from_secs(3600);
        let leased = store.lease(1, hour, Duration::ZERO).await.expect("lease");
        assert_eq!(leased.len(), 1);
        let stale_lease = leased[0].job.lease_id.clone();
        assert_eq!(store.release_leases().await.expect("release"), 1);
        assert_eq!(store.release_leases().await.expect("release again"), 0);
        let status = store.article(first.article_id).await.expect("status");
        assert_eq!(status.state, ArticleState::Queued);
        assert_eq!(status.attempts, 0);
        store.close().await.expect("close");
        drop(store);

        let reopened = Store::open(config(directory.path())).await.expect("reopen");
        let refused = reopened
            .complete(
                first.article_id,
                &stale_lease,
                dialogwatch_worker::record::Extraction::not_dialogue("test"),
            )
            .await;
        assert!(
            matches!(refused, Err(StoreError::LeaseNotHeld { .. })),
            "a released lease is no longer held: {refused:?}"
        );
        let again = reopened
            .lease(2, hour, Duration::ZERO)
            .await
            .expect("lease after reopen");
        let ids: Vec<&str> = again
            .iter()
            .map(|item| item.job.article_id.as_str())
            .collect();
        assert_eq!(ids.len(), 2, "both articles are ready at once: {ids:?}");
        let first_again = again
            .iter()
            .find(|item| item.job.article_id == first.article_id.to_string())
            .expect("the released article is leased again");
        assert_eq!(
            first_again.job.attempt, 1,
            "the released attempt did not count"
        );
        reopened.close().await.expect("close");
    }
}
