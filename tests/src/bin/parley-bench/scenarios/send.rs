//! `send`: concurrent clients send over `sendMessage` into many
//! conversations, against the same rows written straight into the
//! database by as many writers.

use anyhow::{Context, Result};
use chrono::Utc;
use futures_util::FutureExt;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait},
};
use service::{
    db,
    entity::{conversation, conversation::Kind, conversation_member, message},
};

use super::drive;
use crate::{
    Ctx,
    client::{conversation_gid, send_timed},
    report::{CpuWatch, Row},
};

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let clients = ctx.size(4, 32);
    let conversations = ctx.size(10, 100);
    let total = ctx.size(200, 20_000);
    let users = ctx.seeder.users("sender", clients).await?;
    let members: Vec<i64> = users.iter().map(|u| u.id).collect();
    let ids = ctx
        .seeder
        .conversations(Kind::Group, &vec![members; conversations])
        .await?;
    let gids: Vec<String> = ids.iter().map(|id| conversation_gid(*id)).collect();

    // Through Parley.
    let url = ctx.target.graphql_url();
    let watch = CpuWatch::start();
    let (h, parley_elapsed) = drive(clients, total, |worker, i| {
        send_timed(&ctx.http, &url, &users[worker].token, &gids[i % gids.len()])
            .map(|sent| sent.map(drop))
    })
    .await?;
    watch.check("send");

    // The limit: the same rows, straight into the database.
    let pool = db::connect(
        &ctx.target.database_url,
        &db::DbOptions {
            max_connections: clients as u32,
        },
    )
    .await?;
    // SQLite writers queue in process, as Parley's do.
    let lock = db::WriteLock::for_connection(&pool);
    let (limit_h, limit_elapsed) = drive(clients, total, |worker, i| {
        insert_directly(&pool, &lock, ids[i % ids.len()], users[worker].id)
    })
    .await?;

    let setting = format!("{clients} clients, {conversations} conversations");
    let limit = Row::new("send", format!("{setting} (limit: direct DB)"))
        .latencies(&limit_h)
        .rate(total as u64, limit_elapsed);
    let parley = Row::new("send", format!("{setting} ({:?})", ctx.db))
        .latencies(&h)
        .rate(total as u64, parley_elapsed)
        .rss(&ctx.target);
    let ratio = parley.rate / limit.rate.max(1e-9);
    let pass = ratio >= 0.5 && parley.p99_ms < 20.0;
    let parley = parley.judge(
        format!("{:.0}% of limit (>=50%), p99<20ms", ratio * 100.0),
        pass,
    );
    Ok(vec![limit, parley])
}

/// What `sendMessage` writes, without Parley: the seq bump, the message, the
/// sender's read pointer and every member's inbox key and unread count, in
/// one transaction per message.
async fn insert_directly(
    pool: &sea_orm::DatabaseConnection,
    lock: &db::WriteLock,
    conversation_id: i64,
    sender: i64,
) -> Result<()> {
    let txn = lock.begin(pool).await?;
    let now = Utc::now();
    let bumped = conversation::Entity::update_many()
        .col_expr(
            conversation::Column::LastSeq,
            Expr::col(conversation::Column::LastSeq).add(1),
        )
        .col_expr(conversation::Column::LastActivityAt, Expr::value(now))
        .filter(conversation::Column::Id.eq(conversation_id))
        .exec_with_returning(&*txn)
        .await?;
    let seq = bumped
        .first()
        .map(|c| c.last_seq)
        .context("no conversation")?;
    message::ActiveModel {
        conversation_id: Set(conversation_id),
        seq: Set(seq),
        sender_id: Set(Some(sender)),
        body: Set(format!("t={} load test message", now.timestamp_micros())),
        client_message_id: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&*txn)
    .await?;
    conversation_member::Entity::update_many()
        .col_expr(conversation_member::Column::LastReadSeq, Expr::value(seq))
        .col_expr(conversation_member::Column::UnreadCount, Expr::value(0))
        .col_expr(
            conversation_member::Column::LastActivityAt,
            Expr::value(now),
        )
        .filter(conversation_member::Column::ConversationId.eq(conversation_id))
        .filter(conversation_member::Column::UserId.eq(sender))
        .exec(&*txn)
        .await?;
    conversation_member::Entity::update_many()
        .col_expr(
            conversation_member::Column::UnreadCount,
            Expr::col(conversation_member::Column::UnreadCount).add(1),
        )
        .col_expr(
            conversation_member::Column::LastActivityAt,
            Expr::value(now),
        )
        .filter(conversation_member::Column::ConversationId.eq(conversation_id))
        .filter(conversation_member::Column::UserId.ne(sender))
        .exec(&*txn)
        .await?;
    txn.commit().await?;
    Ok(())
}
