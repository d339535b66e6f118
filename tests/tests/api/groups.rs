//! Groups: roles, leaving, system notices, the member limit, removal and
//! untitled groups.

use std::time::Duration;

use parley_tests::{TestApp, TestUser, WsClient, error_code, spawn_app, spawn_app_with};
use serde_json::{Value, json};

const CREATE: &str = "mutation($i: CreateGroupConversationInput!) { createGroupConversation(input: $i) { id title } }";
const ADD: &str = "mutation($c: ID!, $u: [ID!]!) { addMembers(conversationId: $c, userIds: $u) { id memberCount } }";
const REMOVE: &str = "mutation($c: ID!, $u: ID!) { removeMember(conversationId: $c, userId: $u) { id memberCount } }";
const SET_ROLE: &str = "mutation($c: ID!, $u: ID!, $r: MemberRole!) { setMemberRole(conversationId: $c, userId: $u, role: $r) { id } }";
const LEAVE: &str =
    "mutation($c: ID!) { leaveConversation(conversationId: $c) { conversationId deleted } }";
const MEMBERS: &str = "query($c: ID!) { conversation(id: $c) { memberCount myRole members(first: 100) { nodes { role user { id username } } } } }";
const TIMELINE: &str = "query($c: ID!) { conversation(id: $c) { lastSeq unreadCount messages(last: 100) { nodes { id seq kind body metadata sender { id } } } } }";
/// With `afterSeq`, a stream that is set up late still gets every message
/// after that seq: no test depends on how soon the server subscribes.
const FOLLOW: &str = "subscription($c: ID!, $after: Int) { messageAdded(conversationId: $c, afterSeq: $after) { seq body kind } }";

/// Creates a group owned by `owner`; its id.
async fn create_group(
    app: &TestApp,
    owner: &TestUser,
    title: Option<&str>,
    members: &[&TestUser],
) -> anyhow::Result<String> {
    let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    let data = app
        .ok(
            &owner.token,
            CREATE,
            json!({"i": {"title": title, "memberIds": ids}}),
        )
        .await?;
    Ok(data["createGroupConversation"]["id"]
        .as_str()
        .unwrap()
        .to_owned())
}

/// `(user id, role)` of every member, as `viewer` sees them.
async fn roles(
    app: &TestApp,
    viewer: &TestUser,
    group: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let data = app.ok(&viewer.token, MEMBERS, json!({"c": group})).await?;
    Ok(data["conversation"]["members"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{viewer:?} does not see {group}: {data}"))
        .iter()
        .map(|m| {
            (
                m["user"]["id"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect())
}

async fn role_of(
    app: &TestApp,
    viewer: &TestUser,
    group: &str,
    user: &TestUser,
) -> anyhow::Result<Option<String>> {
    Ok(roles(app, viewer, group)
        .await?
        .into_iter()
        .find(|(id, _)| *id == user.id)
        .map(|(_, role)| role))
}

fn field(response: &Value) -> &str {
    response["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or("<none>")
}

/// `conversation(id)` as `viewer` sees it (`null` for non-members).
async fn conversation(app: &TestApp, viewer: &TestUser, id: &str) -> anyhow::Result<Value> {
    let response = app
        .gql(
            Some(&viewer.token),
            "query($c: ID!) { conversation(id: $c) { id title messages { nodes { body } } } }",
            json!({"c": id}),
        )
        .await?;
    assert!(response.get("errors").is_none(), "{response}");
    Ok(response["data"]["conversation"].clone())
}

async fn send_code(app: &TestApp, user: &TestUser, id: &str) -> anyhow::Result<String> {
    let response = app
        .gql(
            Some(&user.token),
            "mutation($c: ID!) { sendMessage(input: {conversationId: $c, body: \"x\"}) { id } }",
            json!({"c": id}),
        )
        .await?;
    Ok(error_code(&response).to_owned())
}

/// The timeline's SYSTEM messages, oldest first.
fn system_messages(timeline: &Value) -> Vec<Value> {
    timeline["conversation"]["messages"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "SYSTEM")
        .cloned()
        .collect()
}

#[tokio::test]
async fn owners_and_admins_manage_members_within_their_roles() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let owner = app.register("owner").await?;
    let admin = app.register("admin").await?;
    let m1 = app.register("member1").await?;
    let m2 = app.register("member2").await?;
    let m3 = app.register("member3").await?;
    let outsider = app.register("outsider").await?;
    let group = create_group(&app, &owner, Some("Team"), &[&admin, &m1]).await?;

    // The owner adds people; those already in are skipped.
    let added = app
        .ok(
            &owner.token,
            ADD,
            json!({"c": group, "u": [m2.id, m3.id, m1.id]}),
        )
        .await?;
    assert_eq!(added["addMembers"]["memberCount"], 5);
    assert_eq!(
        role_of(&app, &m3, &group, &m3).await?.as_deref(),
        Some("MEMBER")
    );

    app.ok(
        &owner.token,
        SET_ROLE,
        json!({"c": group, "u": admin.id, "r": "ADMIN"}),
    )
    .await?;
    assert_eq!(
        role_of(&app, &owner, &group, &admin).await?.as_deref(),
        Some("ADMIN")
    );

    // A plain member can neither add nor remove.
    let add = app
        .gql(
            Some(&m1.token),
            ADD,
            json!({"c": group, "u": [outsider.id]}),
        )
        .await?;
    assert_eq!(error_code(&add), "FORBIDDEN", "{add}");
    let remove = app
        .gql(Some(&m1.token), REMOVE, json!({"c": group, "u": m2.id}))
        .await?;
    assert_eq!(error_code(&remove), "FORBIDDEN", "{remove}");
    let promote = app
        .gql(
            Some(&m1.token),
            SET_ROLE,
            json!({"c": group, "u": m1.id, "r": "ADMIN"}),
        )
        .await?;
    assert_eq!(error_code(&promote), "FORBIDDEN", "{promote}");
    assert_eq!(roles(&app, &owner, &group).await?.len(), 5);
    assert!(conversation(&app, &outsider, &group).await?.is_null());

    // An admin adds and removes members.
    let added = app
        .ok(&admin.token, ADD, json!({"c": group, "u": [outsider.id]}))
        .await?;
    assert_eq!(added["addMembers"]["memberCount"], 6);
    assert!(!conversation(&app, &outsider, &group).await?.is_null());
    let removed = app
        .ok(&admin.token, REMOVE, json!({"c": group, "u": m3.id}))
        .await?;
    assert_eq!(removed["removeMember"]["memberCount"], 5);
    assert!(conversation(&app, &m3, &group).await?.is_null());

    // An admin cannot remove another admin, nor change anyone's role.
    app.ok(
        &owner.token,
        SET_ROLE,
        json!({"c": group, "u": m2.id, "r": "ADMIN"}),
    )
    .await?;
    let remove_admin = app
        .gql(Some(&admin.token), REMOVE, json!({"c": group, "u": m2.id}))
        .await?;
    assert_eq!(error_code(&remove_admin), "FORBIDDEN", "{remove_admin}");
    for (target, role) in [(&m1, "ADMIN"), (&m2, "MEMBER"), (&admin, "OWNER")] {
        let change = app
            .gql(
                Some(&admin.token),
                SET_ROLE,
                json!({"c": group, "u": target.id, "r": role}),
            )
            .await?;
        assert_eq!(error_code(&change), "FORBIDDEN", "{role}: {change}");
    }
    assert_eq!(
        role_of(&app, &owner, &group, &m1).await?.as_deref(),
        Some("MEMBER")
    );
    assert_eq!(
        role_of(&app, &owner, &group, &m2).await?.as_deref(),
        Some("ADMIN")
    );

    // Nobody removes the owner: not an admin, not the owner themselves.
    let remove_owner = app
        .gql(
            Some(&admin.token),
            REMOVE,
            json!({"c": group, "u": owner.id}),
        )
        .await?;
    assert_eq!(error_code(&remove_owner), "FORBIDDEN", "{remove_owner}");
    let remove_self = app
        .gql(
            Some(&owner.token),
            REMOVE,
            json!({"c": group, "u": owner.id}),
        )
        .await?;
    assert_eq!(error_code(&remove_self), "BAD_USER_INPUT", "{remove_self}");
    assert_eq!(field(&remove_self), "userId");
    assert_eq!(
        role_of(&app, &admin, &group, &owner).await?.as_deref(),
        Some("OWNER")
    );

    // The owner removes admins.
    app.ok(&owner.token, REMOVE, json!({"c": group, "u": m2.id}))
        .await?;
    assert!(conversation(&app, &m2, &group).await?.is_null());

    // Handing over ownership: the old owner becomes an admin.
    app.ok(
        &owner.token,
        SET_ROLE,
        json!({"c": group, "u": admin.id, "r": "OWNER"}),
    )
    .await?;
    let after = roles(&app, &m1, &group).await?;
    let owners: Vec<&String> = after
        .iter()
        .filter(|(_, r)| r == "OWNER")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(owners, vec![&admin.id], "{after:?}");
    assert_eq!(
        role_of(&app, &m1, &group, &owner).await?.as_deref(),
        Some("ADMIN")
    );
    let my_role = app.ok(&owner.token, MEMBERS, json!({"c": group})).await?;
    assert_eq!(my_role["conversation"]["myRole"], "ADMIN");
    // The old owner no longer manages roles; the new one does.
    let demote = app
        .gql(
            Some(&owner.token),
            SET_ROLE,
            json!({"c": group, "u": m1.id, "r": "ADMIN"}),
        )
        .await?;
    assert_eq!(error_code(&demote), "FORBIDDEN", "{demote}");
    app.ok(
        &admin.token,
        SET_ROLE,
        json!({"c": group, "u": m1.id, "r": "ADMIN"}),
    )
    .await?;
    assert_eq!(
        role_of(&app, &m1, &group, &m1).await?.as_deref(),
        Some("ADMIN")
    );
    Ok(())
}

#[tokio::test]
async fn an_owner_who_leaves_hands_the_group_on_and_the_last_one_out_deletes_it()
-> anyhow::Result<()> {
    let app = spawn_app().await?;
    let owner = app.register("owner").await?;
    let m1 = app.register("first_member").await?;
    let m2 = app.register("second_member").await?;
    let m3 = app.register("third_member").await?;
    let m4 = app.register("fourth_member").await?;
    let group = create_group(&app, &owner, Some("Relay"), &[&m1]).await?;
    // Joined one after another: m1, then m2, m3, m4.
    for m in [&m2, &m3, &m4] {
        tokio::time::sleep(Duration::from_millis(20)).await;
        app.ok(&owner.token, ADD, json!({"c": group, "u": [m.id]}))
            .await?;
    }
    // Promoted in the opposite order to their joining.
    for m in [&m3, &m2] {
        app.ok(
            &owner.token,
            SET_ROLE,
            json!({"c": group, "u": m.id, "r": "ADMIN"}),
        )
        .await?;
    }
    app.send(&m1, &group, "hello").await?;

    let leave = |user: &TestUser| {
        let (app, token, group) = (&app, user.token.clone(), group.clone());
        async move { app.ok(&token, LEAVE, json!({"c": group})).await }
    };
    // The owner leaves: the longest-standing admin (m2) takes over, not
    // the longest-standing member (m1) nor the admin promoted first (m3).
    let left = leave(&owner).await?;
    assert_eq!(left["leaveConversation"]["deleted"], false);
    assert_eq!(left["leaveConversation"]["conversationId"], group);
    assert!(conversation(&app, &owner, &group).await?.is_null());
    assert_eq!(send_code(&app, &owner, &group).await?, "NOT_FOUND");
    assert_eq!(
        role_of(&app, &m1, &group, &m2).await?.as_deref(),
        Some("OWNER")
    );
    assert_eq!(
        role_of(&app, &m1, &group, &m3).await?.as_deref(),
        Some("ADMIN")
    );
    // The timeline says so.
    let timeline = app.ok(&m1.token, TIMELINE, json!({"c": group})).await?;
    let last = system_messages(&timeline).pop().unwrap();
    assert_eq!(last["metadata"]["type"], "member_left", "{last}");
    assert_eq!(last["metadata"]["userId"], owner.id, "{last}");
    assert_eq!(last["metadata"]["newOwnerId"], m2.id, "{last}");

    // m2 leaves: the remaining admin (m3) takes over.
    assert_eq!(leave(&m2).await?["leaveConversation"]["deleted"], false);
    assert_eq!(
        role_of(&app, &m1, &group, &m3).await?.as_deref(),
        Some("OWNER")
    );
    // m3 leaves: no admin is left, so the longest-standing member (m1).
    assert_eq!(leave(&m3).await?["leaveConversation"]["deleted"], false);
    assert_eq!(
        role_of(&app, &m4, &group, &m1).await?.as_deref(),
        Some("OWNER")
    );
    assert_eq!(
        role_of(&app, &m4, &group, &m4).await?.as_deref(),
        Some("MEMBER")
    );
    // A member leaving hands nothing on.
    assert_eq!(leave(&m4).await?["leaveConversation"]["deleted"], false);
    assert_eq!(
        roles(&app, &m1, &group).await?,
        vec![(m1.id.clone(), "OWNER".to_owned())]
    );

    // The last one out deletes the group.
    let last_out = leave(&m1).await?;
    assert_eq!(last_out["leaveConversation"]["deleted"], true);
    for former in [&owner, &m1, &m2, &m3, &m4] {
        assert!(
            conversation(&app, former, &group).await?.is_null(),
            "{former:?}"
        );
        let list = app
            .ok(
                &former.token,
                "{ conversations { nodes { id } } }",
                json!({}),
            )
            .await?;
        assert_eq!(list["conversations"]["nodes"], json!([]), "{former:?}");
    }
    Ok(())
}

#[tokio::test]
async fn a_direct_conversation_cannot_be_left() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.register("alpha").await?;
    let b = app.register("bravo").await?;
    let id = app.open_direct(&a, &b).await?;
    let response = app.gql(Some(&a.token), LEAVE, json!({"c": id})).await?;
    assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
    assert_eq!(field(&response), "conversationId", "{response}");
    // Neither can its members change.
    let add = app
        .gql(
            Some(&a.token),
            ADD,
            json!({"c": id, "u": [app.register("charlie").await?.id]}),
        )
        .await?;
    assert_eq!(error_code(&add), "BAD_USER_INPUT", "{add}");
    assert_eq!(field(&add), "conversationId");
    // Both are still in it.
    for user in [&a, &b] {
        assert!(!conversation(&app, user, &id).await?.is_null());
    }
    app.send(&a, &id, "still here").await?;
    Ok(())
}

#[tokio::test]
async fn changes_are_recorded_as_system_messages_that_are_never_unread() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let owner = app.register("olga").await?;
    let m1 = app.register("pavel").await?;
    let m2 = app.register("quinn").await?;
    let group = create_group(&app, &owner, Some("Book club"), &[&m1]).await?;

    app.ok(&owner.token, ADD, json!({"c": group, "u": [m2.id]}))
        .await?;
    app.ok(
        &owner.token,
        SET_ROLE,
        json!({"c": group, "u": m1.id, "r": "ADMIN"}),
    )
    .await?;
    app.ok(&owner.token, REMOVE, json!({"c": group, "u": m2.id}))
        .await?;
    app.ok(
        &m1.token,
        "mutation($c: ID!) { updateConversation(input: {id: $c, title: \"Reading circle\"}) { title } }",
        json!({"c": group}),
    )
    .await?;

    for viewer in [&owner, &m1] {
        let timeline = app.ok(&viewer.token, TIMELINE, json!({"c": group})).await?;
        let notices = system_messages(&timeline);
        let all = timeline["conversation"]["messages"]["nodes"]
            .as_array()
            .unwrap();
        assert_eq!(notices.len(), 4, "{timeline:#}");
        assert_eq!(all.len(), 4, "{timeline:#}");
        for notice in &notices {
            assert_eq!(notice["sender"], Value::Null, "{notice}");
            assert!(!notice["body"].as_str().unwrap().trim().is_empty());
        }
        let types: Vec<&str> = notices
            .iter()
            .map(|n| n["metadata"]["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "members_added",
                "role_changed",
                "member_removed",
                "conversation_updated"
            ]
        );

        let added = &notices[0];
        assert_eq!(added["metadata"]["actorId"], owner.id, "{added}");
        assert_eq!(added["metadata"]["userIds"], json!([m2.id]), "{added}");
        let body = added["body"].as_str().unwrap();
        assert!(body.contains("olga") && body.contains("quinn"), "{body}");

        let role = &notices[1];
        assert_eq!(role["metadata"]["actorId"], owner.id, "{role}");
        assert_eq!(role["metadata"]["userId"], m1.id, "{role}");
        assert_eq!(role["metadata"]["role"], "ADMIN", "{role}");
        let body = role["body"].as_str().unwrap();
        assert!(body.contains("pavel") && body.contains("admin"), "{body}");

        let removed = &notices[2];
        assert_eq!(removed["metadata"]["actorId"], owner.id, "{removed}");
        assert_eq!(removed["metadata"]["userId"], m2.id, "{removed}");
        let body = removed["body"].as_str().unwrap();
        assert!(body.contains("quinn"), "{body}");

        let updated = &notices[3];
        assert_eq!(updated["metadata"]["actorId"], m1.id, "{updated}");
        assert_eq!(updated["metadata"]["title"], "Reading circle", "{updated}");
        assert!(
            updated["metadata"]["fields"]
                .as_array()
                .unwrap()
                .contains(&json!("title")),
            "{updated}"
        );
        let body = updated["body"].as_str().unwrap();
        assert!(body.contains("Reading circle"), "{body}");

        // Notices are never unread, here or in the total.
        assert_eq!(timeline["conversation"]["unreadCount"], 0);
        assert_eq!(timeline["conversation"]["lastSeq"], 4);
        let totals = app
            .ok(
                &viewer.token,
                "{ unreadCount myStats { unread } conversations { nodes { id unreadCount } } }",
                json!({}),
            )
            .await?;
        assert_eq!(totals["unreadCount"], 0, "{totals}");
        assert_eq!(totals["myStats"]["unread"], 0, "{totals}");
        assert_eq!(
            totals["conversations"]["nodes"],
            json!([{"id": group, "unreadCount": 0}])
        );
    }

    // A person's message does count, for the others.
    app.send(&owner, &group, "welcome").await?;
    let totals = app
        .ok(
            &m1.token,
            "query($c: ID!) { unreadCount conversation(id: $c) { unreadCount messages(last: 1) { nodes { kind sender { id } } } } }",
            json!({"c": group}),
        )
        .await?;
    assert_eq!(totals["unreadCount"], 1);
    assert_eq!(totals["conversation"]["unreadCount"], 1);
    assert_eq!(
        totals["conversation"]["messages"]["nodes"],
        json!([{"kind": "TEXT", "sender": {"id": owner.id}}])
    );
    // And a notice after it adds nothing.
    app.ok(
        &owner.token,
        SET_ROLE,
        json!({"c": group, "u": m1.id, "r": "MEMBER"}),
    )
    .await?;
    let total = app.ok(&m1.token, "{ unreadCount }", json!({})).await?;
    assert_eq!(total["unreadCount"], 1);
    Ok(())
}

#[tokio::test]
async fn a_group_cannot_grow_past_the_member_limit() -> anyhow::Result<()> {
    let app = spawn_app_with(|config| config.max_group_members = 3).await?;
    let owner = app.register("owner").await?;
    let m1 = app.register("member1").await?;
    let m2 = app.register("member2").await?;
    let m3 = app.register("member3").await?;
    let group = create_group(&app, &owner, Some("Small"), &[&m1]).await?;

    // Two more would make four: nobody is added.
    let response = app
        .gql(
            Some(&owner.token),
            ADD,
            json!({"c": group, "u": [m2.id, m3.id]}),
        )
        .await?;
    assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
    assert_eq!(field(&response), "userIds");
    assert_eq!(roles(&app, &owner, &group).await?.len(), 2);
    for user in [&m2, &m3] {
        assert!(conversation(&app, user, &group).await?.is_null());
    }
    let seq = app.ok(&owner.token, TIMELINE, json!({"c": group})).await?;
    assert_eq!(seq["conversation"]["lastSeq"], 0, "no notice was written");

    // Up to the limit is fine; past it is not.
    let added = app
        .ok(&owner.token, ADD, json!({"c": group, "u": [m2.id]}))
        .await?;
    assert_eq!(added["addMembers"]["memberCount"], 3);
    let response = app
        .gql(Some(&owner.token), ADD, json!({"c": group, "u": [m3.id]}))
        .await?;
    assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
    assert_eq!(field(&response), "userIds");
    assert!(conversation(&app, &m3, &group).await?.is_null());
    assert_eq!(roles(&app, &owner, &group).await?.len(), 3);

    // Creating a group that is too big fails the same way.
    let too_big = app
        .gql(
            Some(&owner.token),
            CREATE,
            json!({"i": {"title": "Big", "memberIds": [m1.id, m2.id, m3.id]}}),
        )
        .await?;
    assert_eq!(error_code(&too_big), "BAD_USER_INPUT", "{too_big}");
    assert_eq!(field(&too_big), "memberIds");
    Ok(())
}

/// Reads `ws` until operation `id` ends; every message it got. Fails when it
/// does not end.
async fn until_end(ws: &mut WsClient, id: &str) -> anyhow::Result<Vec<Value>> {
    let mut got = Vec::new();
    loop {
        let message = ws.next().await?;
        let end =
            message["id"] == id && (message["type"] == "complete" || message["type"] == "error");
        got.push(message);
        if end {
            return Ok(got);
        }
    }
}

#[tokio::test]
async fn a_removed_member_loses_access_at_once() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let owner = app.register("owner").await?;
    let stays = app.register("stays").await?;
    let goes = app.register("goes").await?;
    let group = create_group(&app, &owner, Some("Crew"), &[&stays, &goes]).await?;
    let earlier = app.send(&goes, &group, "my last words").await?;
    let earlier_id = earlier["id"].as_str().unwrap().to_owned();

    let mut ws = app.ws(&goes.token).await?;
    ws.subscribe("live", FOLLOW, json!({"c": group, "after": 1}))
        .await?;
    app.send(&owner, &group, "before removal").await?;
    assert_eq!(
        ws.next_data("live").await?["data"]["messageAdded"]["body"],
        "before removal"
    );

    app.ok(&owner.token, REMOVE, json!({"c": group, "u": goes.id}))
        .await?;
    app.send(&owner, &group, "after removal").await?;
    app.send(&stays, &group, "they are gone").await?;

    // The open stream ends without delivering anything from then on.
    let got = until_end(&mut ws, "live").await?;
    for message in &got {
        let body = &message["payload"]["data"]["messageAdded"]["body"];
        assert!(
            body.is_null(),
            "a removed member received {message} (all: {got:?})"
        );
    }
    assert!(ws.quiet_for(Duration::from_millis(300)).await);

    // Nothing else works either.
    assert!(conversation(&app, &goes, &group).await?.is_null());
    assert_eq!(send_code(&app, &goes, &group).await?, "NOT_FOUND");
    let node = app
        .gql(
            Some(&goes.token),
            "query($m: ID!) { node(id: $m) { id ... on Message { body } } }",
            json!({"m": earlier_id}),
        )
        .await?;
    assert!(node.get("errors").is_none(), "{node}");
    assert_eq!(node["data"]["node"], Value::Null, "{node}");
    let list = app
        .ok(
            &goes.token,
            "{ unreadCount conversations { nodes { id } } }",
            json!({}),
        )
        .await?;
    assert_eq!(list["conversations"]["nodes"], json!([]));
    assert_eq!(list["unreadCount"], 0);
    let mark = app
        .gql(
            Some(&goes.token),
            "mutation($c: ID!) { markRead(input: {conversationId: $c}) { id } }",
            json!({"c": group}),
        )
        .await?;
    assert_eq!(error_code(&mark), "NOT_FOUND", "{mark}");

    // A new subscription is refused.
    ws.subscribe("again", FOLLOW, json!({"c": group})).await?;
    let refused = ws.next().await?;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{refused}"
    );

    // The others go on.
    let seen = app.ok(&stays.token, TIMELINE, json!({"c": group})).await?;
    let bodies: Vec<&str> = seen["conversation"]["messages"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "TEXT")
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            "my last words",
            "before removal",
            "after removal",
            "they are gone"
        ]
    );
    Ok(())
}

#[tokio::test]
async fn an_untitled_group_is_named_by_its_members_then_by_its_first_message() -> anyhow::Result<()>
{
    let app = spawn_app().await?;
    let owner = app.register("owner").await?;
    let bea = app.register("bea").await?;
    let cy = app.register("cyril").await?;
    let dee = app.register("dee").await?;
    let group = create_group(&app, &owner, None, &[&bea, &cy]).await?;
    let title = |user: &TestUser| {
        let (app, group, token) = (&app, group.clone(), user.token.clone());
        async move {
            let data = app
                .ok(
                    &token,
                    "query($c: ID!) { conversation(id: $c) { title } }",
                    json!({"c": group}),
                )
                .await?;
            anyhow::Ok(data["conversation"]["title"].as_str().unwrap().to_owned())
        }
    };

    // Before any message, the title lists the other members.
    let seen = title(&owner).await?;
    assert!(seen.contains("bea") && seen.contains("cyril"), "{seen}");
    let seen = title(&bea).await?;
    assert!(seen.contains("owner") && seen.contains("cyril"), "{seen}");
    // A notice is no message: still named by its members, now three.
    app.ok(&owner.token, ADD, json!({"c": group, "u": [dee.id]}))
        .await?;
    let seen = title(&owner).await?;
    assert!(seen.contains("bea") && seen.contains("cyril"), "{seen}");

    let body = "Planning the spring release: who takes the migration guide and who the demo?";
    app.send(&bea, &group, body).await?;
    let expected = "Planning the spring release: who takes the migration guide…";
    for user in [&owner, &bea, &cy, &dee] {
        assert_eq!(title(user).await?, expected, "{user:?}");
    }
    // The first 60 characters, cut where a word ends.
    let stem = expected.strip_suffix('…').unwrap();
    assert!(stem.chars().count() <= 60);
    assert!(body.starts_with(stem));
    assert_eq!(body[stem.len()..].chars().next(), Some(' '));

    // Later messages leave it alone.
    app.send(&cy, &group, "I'll take the demo").await?;
    assert_eq!(title(&owner).await?, expected);
    let list = app
        .ok(
            &dee.token,
            "{ conversations { nodes { title } } }",
            json!({}),
        )
        .await?;
    assert_eq!(list["conversations"]["nodes"], json!([{"title": expected}]));
    Ok(())
}

#[tokio::test]
async fn a_member_who_leaves_stops_receiving() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let owner = app.register("owner").await?;
    let leaver = app.register("leaver").await?;
    let group = create_group(&app, &owner, Some("Crew"), &[&leaver]).await?;
    let mut ws = app.ws(&leaver.token).await?;
    ws.subscribe("live", FOLLOW, json!({"c": group, "after": 0}))
        .await?;
    app.send(&owner, &group, "before").await?;
    assert_eq!(
        ws.next_data("live").await?["data"]["messageAdded"]["body"],
        "before"
    );

    app.ok(&leaver.token, LEAVE, json!({"c": group})).await?;
    app.send(&owner, &group, "after").await?;
    let got = until_end(&mut ws, "live").await?;
    for message in &got {
        assert!(
            message["payload"]["data"]["messageAdded"]["body"].is_null(),
            "the leaver received {message}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn the_last_member_leaving_ends_their_open_stream() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let owner = app.register("owner").await?;
    let other = app.register("other").await?;
    let group = create_group(&app, &owner, Some("Crew"), &[&other]).await?;
    app.ok(&other.token, LEAVE, json!({"c": group})).await?;
    let mut ws = app.ws(&owner.token).await?;
    ws.subscribe("live", FOLLOW, json!({"c": group, "after": 1}))
        .await?;
    app.send(&owner, &group, "alone").await?;
    assert_eq!(
        ws.next_data("live").await?["data"]["messageAdded"]["body"],
        "alone"
    );

    let left = app.ok(&owner.token, LEAVE, json!({"c": group})).await?;
    assert_eq!(left["leaveConversation"]["deleted"], true);
    // The group is gone: the stream on it ends, as it does when a group
    // is deleted or a member removed.
    until_end(&mut ws, "live").await?;
    Ok(())
}
