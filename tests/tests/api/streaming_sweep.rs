//! Abandoned streaming messages: the sweeper finishes one that got no text
//! for `PARLEY_STREAMING_TIMEOUT`, and a group's owners and admins may
//! finish someone else's.

use std::time::Duration;

use anyhow::Result;
use parley_tests::{TestApp, TestUser, decode_id, error_code, spawn_app, spawn_app_with};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use service::entity::event;

const START: &str =
    "mutation($c: ID!) { sendMessage(input: {conversationId: $c, streaming: true}) { id } }";
const APPEND: &str =
    "mutation($m: ID!, $t: String!) { appendToMessage(id: $m, text: $t) { length } }";
const FINISH: &str = "mutation($m: ID!) { finishMessage(id: $m) { id body streaming } }";
const READ: &str = "query($m: ID!) { node(id: $m) { ... on Message { body streaming } } }";

async fn group(app: &TestApp, owner: &TestUser, members: &[&TestUser]) -> Result<String> {
    let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    let data = app
        .ok(
            &owner.token,
            "mutation($m: [ID!]!) { createGroupConversation(input: {title: \"g\", memberIds: $m}) { id } }",
            json!({"m": ids}),
        )
        .await?;
    Ok(data["createGroupConversation"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

async fn start(app: &TestApp, user: &TestUser, c: &str, text: &str) -> Result<String> {
    let id = app.ok(&user.token, START, json!({"c": c})).await?["sendMessage"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    app.ok(&user.token, APPEND, json!({"m": id, "t": text}))
        .await?;
    Ok(id)
}

async fn read(app: &TestApp, user: &TestUser, id: &str) -> Result<Value> {
    Ok(app.ok(&user.token, READ, json!({"m": id})).await?["node"].clone())
}

async fn finished_events(app: &TestApp, id: &str) -> Result<u64> {
    Ok(event::Entity::find()
        .filter(event::Column::Kind.eq(event::Kind::MessageFinished))
        .filter(event::Column::MessageId.eq(decode_id(id)?))
        .count(app.service.db())
        .await?)
}

#[tokio::test]
async fn a_silent_streaming_message_is_finished_with_what_was_stored() -> Result<()> {
    let app = spawn_app_with(|c| c.streaming_timeout = Duration::from_millis(800)).await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let c = group(&app, &ann, &[&ben]).await?;
    let silent = start(&app, &ann, &c, "half an ans").await?;
    let busy = start(&app, &ann, &c, "a").await?;

    // The busy one gets text every 200 ms for well past the timeout.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.ok(&ann.token, APPEND, json!({"m": busy, "t": "b"}))
            .await?;
    }
    let gone = read(&app, &ben, &silent).await?;
    assert_eq!(gone, json!({"body": "half an ans", "streaming": false}));
    assert_eq!(finished_events(&app, &silent).await?, 1);
    assert_eq!(read(&app, &ben, &busy).await?["streaming"], true);
    // The author finishing after the sweep gets the usual CONFLICT.
    let late = app
        .gql(Some(&ann.token), FINISH, json!({"m": silent}))
        .await?;
    assert_eq!(error_code(&late), "CONFLICT");

    // Once the busy one falls silent too, it is finished with all its text.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(
        read(&app, &ben, &busy).await?,
        json!({"body": "abbbbbbbbbb", "streaming": false})
    );
    assert_eq!(finished_events(&app, &busy).await?, 1);
    // Sweeping again finds nothing and logs nothing.
    assert_eq!(app.service.sweep_streaming().await?, 0);
    assert_eq!(finished_events(&app, &silent).await?, 1);
    Ok(())
}

#[tokio::test]
async fn owners_and_admins_finish_someone_elses_stream() -> Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let cyd = app.register("cyd").await?;
    let dan = app.register("dan").await?;
    let c = group(&app, &ann, &[&ben, &cyd, &dan]).await?;
    app.ok(
        &ann.token,
        "mutation($c: ID!, $u: ID!) { setMemberRole(conversationId: $c, userId: $u, role: ADMIN) { id } }",
        json!({"c": c, "u": ben.id}),
    )
    .await?;

    let first = start(&app, &dan, &c, "one").await?;
    let member = app
        .gql(Some(&cyd.token), FINISH, json!({"m": first}))
        .await?;
    assert_eq!(error_code(&member), "FORBIDDEN");
    let by_admin = app.ok(&ben.token, FINISH, json!({"m": first})).await?;
    assert_eq!(
        by_admin["finishMessage"],
        json!({"id": first, "body": "one", "streaming": false})
    );
    assert_eq!(finished_events(&app, &first).await?, 1);

    // The author left: the owner ends what they left behind.
    let second = start(&app, &dan, &c, "two").await?;
    app.ok(
        &dan.token,
        "mutation($c: ID!) { leaveConversation(conversationId: $c) { deleted } }",
        json!({"c": c}),
    )
    .await?;
    let gone = app
        .gql(Some(&dan.token), FINISH, json!({"m": second}))
        .await?;
    assert_eq!(error_code(&gone), "NOT_FOUND");
    let by_owner = app.ok(&ann.token, FINISH, json!({"m": second})).await?;
    assert_eq!(by_owner["finishMessage"]["body"], "two");
    assert_eq!(by_owner["finishMessage"]["streaming"], false);
    Ok(())
}
