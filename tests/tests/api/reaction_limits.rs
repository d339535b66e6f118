//! Joining an emoji that is already on a message never counts against the
//! per-person limit: it adds no new group.

use anyhow::Result;
use parley_tests::{TestApp, TestUser, error_code, spawn_app};
use serde_json::{Value, json};

const REACT: &str = "mutation($m: ID!, $e: String!) { addReaction(messageId: $m, emoji: $e) { reactions { emoji count reactedByMe } } }";

async fn react(app: &TestApp, user: &TestUser, m: &str, emoji: &str) -> Result<Value> {
    app.gql(Some(&user.token), REACT, json!({"m": m, "e": emoji}))
        .await
}

#[tokio::test]
async fn joining_an_existing_emoji_works_at_the_personal_limit() -> Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let c = app.open_direct(&ann, &ben).await?;
    let m = app.send(&ann, &c, "vote").await?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    react(&app, &ann, &m, "👍").await?;
    for i in 0..20 {
        let r = react(&app, &ben, &m, &format!("b{i}")).await?;
        assert!(r["errors"].is_null(), "{r}");
    }
    // A 21st new emoji of ben's own is refused ...
    let over = react(&app, &ben, &m, "b20").await?;
    assert_eq!(error_code(&over), "CONFLICT");
    // ... but joining ann's works, and counts him in.
    let joined = react(&app, &ben, &m, "👍").await?;
    assert!(joined["errors"].is_null(), "{joined}");
    let groups = joined["data"]["addReaction"]["reactions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let thumbs = groups.iter().find(|g| g["emoji"] == "👍").cloned();
    assert_eq!(
        thumbs,
        Some(json!({"emoji": "👍", "count": 2, "reactedByMe": true}))
    );
    assert_eq!(groups.len(), 21);
    Ok(())
}
