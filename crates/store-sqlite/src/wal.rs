//! WAL checkpoints off the writer's path.
//!
//! SQLite's automatic checkpoint runs inside the commit that pushes the WAL past its
//! threshold: that commit copies every page written since the last checkpoint into the
//! database file and syncs it while it still holds the only writer connection, so every
//! request waiting for the writer waits for the checkpoint too (under rights checks at
//! 2,000/s: a stall of ~50 ms every ~5 s, which was the whole 99th percentile). Here a task
//! with its own connection runs a `PASSIVE` checkpoint every [`PERIOD`]: it copies the frames
//! no reader still needs, beside the writer, never blocking it or a reader. When the WAL is
//! fully copied and no reader holds a snapshot in it, the writer's next transaction starts it
//! again from the beginning; under a steady load some reader nearly always does, so the file
//! grows to the backstop's size and stays there. The writer's automatic checkpoint is that
//! backstop ([`BACKSTOP_PAGES`]): by then this task has copied almost every frame, so it costs
//! the writer little, and if this task cannot keep up (a reader pinning an old snapshot, a
//! burst of writes) the writer checkpoints as it used to.

use sqlx::ConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often the background task checkpoints.
pub(crate) const PERIOD: Duration = Duration::from_millis(500);

/// The writer's own automatic checkpoint, in WAL pages (~160 MiB): the backstop.
pub(crate) const BACKSTOP_PAGES: &str = "40000";

/// The running checkpoint task; dropping it (with the last clone of the store) stops it.
#[derive(Debug)]
pub(crate) struct Checkpointer(JoinHandle<()>);

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Checkpointer {
    /// Opens the task's connection and starts it on the current Tokio runtime. `None` when
    /// the connection cannot be opened: the writer's backstop then checkpoints alone.
    pub(crate) async fn start(options: &SqliteConnectOptions) -> Option<Self> {
        // A checkpoint copying a large WAL takes seconds by design: not a "slow statement".
        let options = options.clone().disable_statement_logging();
        let mut conn = match options.connect().await {
            Ok(c) => c,
            Err(_) => {
                tracing::warn!(
                    "no connection for background WAL checkpoints; the writer checkpoints"
                );
                return None;
            }
        };
        Some(Self(tokio::spawn(async move {
            let mut ticker = tokio::time::interval(PERIOD);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let passive = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)");
                if let Err(e) = passive.execute(&mut conn).await {
                    tracing::warn!(error = %e, "background WAL checkpoint failed");
                }
            }
        })))
    }
}

#[cfg(test)]
mod tests {
    use crate::SqliteStore;
    use std::time::{Duration, Instant};

    fn file_len(path: &std::path::Path) -> u64 {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }

    /// Pages committed through the writer reach the database file without any commit
    /// crossing the writer's own (backstop) threshold: the background task copied them.
    #[tokio::test]
    async fn committed_pages_reach_the_database_file_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.sqlite3");
        let store = SqliteStore::open(&path).await.unwrap();
        sqlx::query("CREATE TABLE filler (x BLOB)")
            .execute(&store.writer)
            .await
            .unwrap();
        tokio::time::sleep(super::PERIOD * 3).await;
        let before = file_len(&path);
        // ~2 MiB in 500 pages: far below the backstop of 40,000 pages.
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) \
             INSERT INTO filler SELECT randomblob(4000) FROM n",
        )
        .execute(&store.writer)
        .await
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while file_len(&path) < before + 2_000_000 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            file_len(&path) >= before + 2_000_000,
            "the database file did not receive the committed pages: {} -> {} bytes",
            before,
            file_len(&path)
        );
    }

    /// The task lives as long as a clone of the store does, and no longer.
    #[tokio::test]
    async fn the_task_stops_with_the_last_clone_of_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("wal.sqlite3"))
            .await
            .unwrap();
        let task = std::sync::Arc::downgrade(store._wal.as_ref().unwrap());
        let clone = store.clone();
        drop(store);
        assert!(task.upgrade().is_some(), "a clone still holds it");
        drop(clone);
        assert!(
            task.upgrade().is_none(),
            "dropped (and so aborted) with the store"
        );
    }
}
