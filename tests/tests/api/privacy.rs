//! Privacy settings: who sees a person's presence
//! (`PARLEY_PRESENCE_VISIBILITY`) and whom `users(search)` finds
//! (`PARLEY_USER_SEARCH`); and the deleted conversations a viewer may
//! restore (`conversations(filter: {deleted: true})`, `myStats.deleted`).

use std::time::Duration;

use anyhow::{Result, bail};
use api::config::AudienceArg;
use parley_tests::{TestApp, TestUser, spawn_app, spawn_app_with};
use serde_json::{Value, json};

const PRESENCE: &str = "query($u: ID!) { user(id: $u) { online lastSeenAt } }";
const SEARCH: &str = "query($s: String) { users(search: $s) { nodes { username } } }";

async fn presence(app: &TestApp, viewer: &TestUser, user: &TestUser) -> Result<Value> {
    Ok(app
        .ok(&viewer.token, PRESENCE, json!({"u": user.id}))
        .await?["user"]
        .clone())
}

/// Waits until `viewer` sees `user` online.
async fn wait_online(app: &TestApp, viewer: &TestUser, user: &TestUser) -> Result<()> {
    for _ in 0..100 {
        if presence(app, viewer, user).await?["online"] == true {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!(
        "{} never came online for {}",
        user.username,
        viewer.username
    )
}

async fn names(app: &TestApp, viewer: &TestUser, search: Option<&str>) -> Result<Vec<String>> {
    let data = app.ok(&viewer.token, SEARCH, json!({"s": search})).await?;
    Ok(data["users"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["username"].as_str().map(str::to_owned))
        .collect())
}

#[tokio::test]
async fn presence_is_for_contacts_by_default() -> Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let eve = app.register("eve").await?;
    app.open_direct(&ann, &ben).await?;
    let _socket = app.ws(&ann.token).await?;
    wait_online(&app, &ben, &ann).await?;
    assert!(presence(&app, &ben, &ann).await?["lastSeenAt"].is_string());
    // A stranger sees neither, and the user themselves sees both.
    assert_eq!(
        presence(&app, &eve, &ann).await?,
        json!({"online": false, "lastSeenAt": null})
    );
    wait_online(&app, &ann, &ann).await?;
    // Deleting the only shared conversation ends the contact.
    let shared = app.open_direct(&ann, &ben).await?;
    app.ok(
        &ann.token,
        "mutation($c: ID!) { deleteConversation(id: $c) }",
        json!({"c": shared}),
    )
    .await?;
    assert_eq!(
        presence(&app, &ben, &ann).await?,
        json!({"online": false, "lastSeenAt": null})
    );
    Ok(())
}

#[tokio::test]
async fn presence_for_everyone_when_set() -> Result<()> {
    let app = spawn_app_with(|c| c.presence_visibility = AudienceArg::Everyone).await?;
    let ann = app.register("ann").await?;
    let eve = app.register("eve").await?;
    let _socket = app.ws(&ann.token).await?;
    wait_online(&app, &eve, &ann).await?;
    assert!(presence(&app, &eve, &ann).await?["lastSeenAt"].is_string());
    Ok(())
}

#[tokio::test]
async fn presence_events_reach_only_contacts_and_everyone_when_set() -> Result<()> {
    for (audience, stranger_hears) in [
        (AudienceArg::Contacts, false),
        (AudienceArg::Everyone, true),
    ] {
        let app = spawn_app_with(|c| c.presence_visibility = audience).await?;
        let ann = app.register("ann").await?;
        let ben = app.register("ben").await?;
        let eve = app.register("eve").await?;
        app.open_direct(&ann, &ben).await?;
        let doc = "subscription { events { __typename ... on PresenceEvent { user { username } online } } }";
        let mut watchers = Vec::new();
        for viewer in [&ben, &eve] {
            let mut ws = app.ws(&viewer.token).await?;
            ws.subscribe("e", doc, json!({})).await?;
            // The stream is live before ann comes online.
            assert_eq!(
                ws.next_data("e").await?["data"]["events"]["__typename"],
                "StreamLiveEvent"
            );
            watchers.push(ws);
        }
        let _socket = app.ws(&ann.token).await?;
        let mut heard = Vec::new();
        for ws in &mut watchers {
            // Under `everyone`, ben may first hear eve come online.
            let mut got = false;
            while let Ok(message) = ws.next_within(Duration::from_millis(1500)).await {
                if message["payload"]["data"]["events"]["user"]["username"] == "ann" {
                    got = true;
                    break;
                }
            }
            heard.push(got);
        }
        assert_eq!(heard, vec![true, stranger_hears], "{audience:?}");
    }
    Ok(())
}

#[tokio::test]
async fn user_search_finds_contacts_and_exact_usernames_by_default() -> Result<()> {
    let app = spawn_app().await?;
    let viewer = app.register("viewer").await?;
    let maria = app.register("maria").await?;
    for name in ["mario", "marco"] {
        app.register(name).await?;
    }
    app.open_direct(&viewer, &maria).await?;
    assert_eq!(names(&app, &viewer, Some("mar")).await?, vec!["maria"]);
    assert_eq!(names(&app, &viewer, None).await?, vec!["maria", "viewer"]);
    // A stranger is found by their exact username only, ignoring case.
    assert_eq!(names(&app, &viewer, Some("MARIO")).await?, vec!["mario"]);
    assert_eq!(
        names(&app, &viewer, Some("marc")).await?,
        Vec::<String>::new()
    );

    let open = spawn_app_with(|c| c.user_search = AudienceArg::Everyone).await?;
    let viewer = open.register("viewer").await?;
    for name in ["mario", "marco"] {
        open.register(name).await?;
    }
    assert_eq!(
        names(&open, &viewer, Some("mar")).await?,
        vec!["marco", "mario"]
    );
    Ok(())
}

const DELETED: &str = "{ conversations(filter: {deleted: true}) { nodes { id title deletedAt members { nodes { user { username } } } } } myStats { deleted active } }";

#[tokio::test]
async fn deleted_conversations_are_listed_for_those_who_may_restore_them() -> Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let cat = app.register("cat").await?;
    let direct = app.open_direct(&ann, &ben).await?;
    let group = app
        .ok(
            &ann.token,
            "mutation($m: [ID!]!) { createGroupConversation(input: {title: \"club\", memberIds: $m}) { id } }",
            json!({"m": [ben.id, cat.id]}),
        )
        .await?["createGroupConversation"]["id"]
        .clone();
    let untouched = app.open_direct(&ben, &cat).await?;
    for c in [json!(direct), group.clone()] {
        app.ok(
            &ann.token,
            "mutation($c: ID!) { deleteConversation(id: $c) }",
            json!({"c": c}),
        )
        .await?;
    }
    let listed = |data: &Value| -> Vec<Value> {
        data["conversations"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|n| n["id"].clone())
            .collect()
    };
    // The owner may restore both; ben the direct one (either person may)
    // but not the group he is only a member of; cat nothing.
    let for_ann = app.ok(&ann.token, DELETED, json!({})).await?;
    assert_eq!(listed(&for_ann), vec![group.clone(), json!(direct)]);
    assert_eq!(for_ann["myStats"]["deleted"], 2);
    assert!(for_ann["conversations"]["nodes"][0]["deletedAt"].is_string());
    assert_eq!(for_ann["conversations"]["nodes"][0]["title"], "club");
    let for_ben = app.ok(&ben.token, DELETED, json!({})).await?;
    assert_eq!(listed(&for_ben), vec![json!(direct)]);
    assert_eq!(for_ben["myStats"]["deleted"], 1);
    let for_cat = app.ok(&cat.token, DELETED, json!({})).await?;
    assert_eq!(listed(&for_cat), Vec::<Value>::new());
    assert_eq!(for_cat["myStats"]["deleted"], 0);
    assert_eq!(for_cat["myStats"]["active"], 1, "{untouched}");
    // The inbox still leaves them out, and restoring brings one back.
    let inbox = app
        .ok(&ben.token, "{ conversations { nodes { id } } }", json!({}))
        .await?;
    assert_eq!(listed(&inbox), vec![json!(untouched)]);
    app.ok(
        &ben.token,
        "mutation($c: ID!) { restoreConversation(id: $c) { id deletedAt } }",
        json!({"c": direct}),
    )
    .await?;
    let for_ben = app.ok(&ben.token, DELETED, json!({})).await?;
    assert_eq!(listed(&for_ben), Vec::<Value>::new());
    assert_eq!(for_ben["myStats"]["deleted"], 0);
    Ok(())
}

#[tokio::test]
async fn past_the_retention_period_a_deleted_conversation_is_not_listed() -> Result<()> {
    let app = spawn_app_with(|c| c.delete_retention = Duration::from_millis(1)).await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let direct = app.open_direct(&ann, &ben).await?;
    app.ok(
        &ann.token,
        "mutation($c: ID!) { deleteConversation(id: $c) }",
        json!({"c": direct}),
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let data = app.ok(&ann.token, DELETED, json!({})).await?;
    assert_eq!(data["conversations"]["nodes"], json!([]));
    assert_eq!(data["myStats"]["deleted"], 0);
    Ok(())
}
