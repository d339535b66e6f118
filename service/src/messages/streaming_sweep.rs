//! Finishing abandoned streaming messages.
//!
//! A streaming message whose author left, or whose AI backend crashed,
//! would stay `streaming: true` for good. A sweeper task, owned by the
//! service like the delivery flusher, finishes every streaming message
//! that got no text for `Settings::streaming_timeout`, with the text
//! stored so far, and logs the same `MessageFinished` event as a normal
//! finish, in the same transaction.
//!
//! Several instances may sweep the same database: the UPDATE that
//! finishes a message only touches it while it is still streaming and
//! still silent, so exactly one finish (a sweep's or a person's) wins and
//! logs the event. Silence is measured by `streamed_at`, which the send
//! and every flush of appended text set; an instance also leaves alone a
//! message it got text for within the timeout (its flush may be due).

use std::time::Duration;

use entity::message;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use tokio::sync::mpsc;

use crate::{Service, error::Result, messages::streaming::finished_event, time::now};

/// Messages one sweep finishes at most; the next tick takes the rest.
const SWEEP_BATCH: u64 = 100;

impl Service {
    /// Starts the sweeper: every quarter of the timeout (at most every
    /// 30 s), it finishes the streaming messages silent for longer. It ends
    /// when the service goes away. Must be called inside a Tokio runtime.
    pub(crate) fn spawn_stream_sweeper(&self, mut ended: mpsc::Receiver<()>) {
        let timeout = self.settings().streaming_timeout;
        let every = (timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(30));
        // Its own clone must keep neither itself nor the flusher alive.
        let mut service = self.clone();
        service.streams.alive = None;
        service.deliveries = service.deliveries.detached();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = ended.recv() => break,
                }
                if let Err(err) = service.sweep_streaming().await {
                    tracing::warn!(error = %err, "streaming sweep failed; trying again at the next");
                }
            }
        });
    }

    /// Finishes the streaming messages that got no text for the streaming
    /// timeout; returns how many this call finished.
    pub async fn sweep_streaming(&self) -> Result<usize> {
        let timeout = self.settings().streaming_timeout;
        let Ok(silence) = chrono::Duration::from_std(timeout) else {
            return Ok(0);
        };
        let cutoff = now() - silence;
        let silent = || {
            Condition::any()
                .add(message::Column::StreamedAt.lt(cutoff))
                .add(
                    Condition::all()
                        .add(message::Column::StreamedAt.is_null())
                        .add(message::Column::CreatedAt.lt(cutoff)),
                )
        };
        let candidates: Vec<i64> = message::Entity::find()
            .select_only()
            .column(message::Column::Id)
            .filter(message::Column::Streaming.eq(true))
            .filter(silent())
            .order_by_asc(message::Column::Id)
            .limit(SWEEP_BATCH)
            .into_tuple()
            .all(self.db())
            .await?;
        let mut finished = 0;
        for id in candidates {
            if self.streams.recently_appended(id, timeout) {
                continue;
            }
            let txn = self.write().await?;
            let updated = message::Entity::update_many()
                .col_expr(message::Column::Streaming, Expr::value(false))
                .filter(message::Column::Id.eq(id))
                .filter(message::Column::Streaming.eq(true))
                .filter(silent())
                .exec_with_returning(&*txn)
                .await?;
            // Finished or written to meanwhile (here or elsewhere).
            let Some(message) = updated.into_iter().next() else {
                continue;
            };
            tracing::info!(message_id = id, "finished a silent streaming message");
            self.commit_logged(txn, vec![finished_event(&message)])
                .await?;
            finished += 1;
        }
        Ok(finished)
    }
}
