//! The authorization matrix: every root field, and every field that
//! reveals conversation content, for every kind of caller. The field list
//! comes from the schema itself, so a field added without a row fails here.

use std::collections::{BTreeSet, HashMap};

use anyhow::{Result, bail};
use parley_tests::{TestApp, TestUser, WsClient, error_code, jwt, spawn_app_with};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use service::entity::session;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    Expired,
    NonMember,
    Removed,
    Member,
    Admin,
    Owner,
    /// The server's admin key: the host app, not a person.
    AdminKey,
}

const EVERYONE: [Who; 8] = [
    Who::Anonymous,
    Who::Expired,
    Who::NonMember,
    Who::Removed,
    Who::Member,
    Who::Admin,
    Who::Owner,
    Who::AdminKey,
];

/// What a caller must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Data, no error.
    Ok,
    /// No error, but the top-level field is `null` (not visible).
    Null,
    Code(&'static str),
}

use Expect::{Code, Null, Ok as Yes};

const UNAUTH: Expect = Code("UNAUTHENTICATED");
const FORBID: Expect = Code("FORBIDDEN");
const MISSING: Expect = Code("NOT_FOUND");

/// Signed-in callers all get `ok`.
fn signed_in(ok: Expect) -> impl Fn(Who) -> Expect {
    move |who| match who {
        Who::Anonymous | Who::Expired => UNAUTH,
        _ => ok,
    }
}

/// Members of the group get `member`, its admin `admin`, its owner
/// `owner`; everyone else the same as for a conversation that does not
/// exist.
fn by_role(
    outside: Expect,
    member: Expect,
    admin: Expect,
    owner: Expect,
) -> impl Fn(Who) -> Expect {
    move |who| match who {
        Who::Anonymous | Who::Expired => UNAUTH,
        Who::NonMember | Who::Removed => outside,
        Who::Member => member,
        Who::Admin => admin,
        Who::Owner => owner,
        Who::AdminKey => unreachable!("the admin key's answer is `Row::host`"),
    }
}

struct Row {
    field: &'static str,
    doc: &'static str,
    expect: Box<dyn Fn(Who) -> Expect>,
    /// Changes state so that it needs a fresh world for each caller.
    destructive: bool,
    /// The group is deleted before the row runs.
    deleted_first: bool,
    /// What the admin key gets: `FORBIDDEN` unless the host app may do it.
    host: Expect,
}

fn row(field: &'static str, doc: &'static str, expect: impl Fn(Who) -> Expect + 'static) -> Row {
    Row {
        field,
        doc,
        expect: Box::new(expect),
        destructive: false,
        deleted_first: false,
        host: FORBID,
    }
}

impl Row {
    /// The host app (the admin key) may do this and gets `host`.
    fn host(mut self, host: Expect) -> Self {
        self.host = host;
        self
    }

    fn expect(&self, who: Who) -> Expect {
        match who {
            Who::AdminKey => self.host,
            _ => (self.expect)(who),
        }
    }

    fn destructive(mut self) -> Self {
        self.destructive = true;
        self
    }
}

/// Conversation content: readable by members, invisible to everyone else.
fn content(field: &'static str, doc: &'static str) -> Row {
    row(field, doc, by_role(Null, Yes, Yes, Yes))
}

fn rows() -> Vec<Row> {
    let member_only = || by_role(MISSING, Yes, Yes, Yes);
    let managers = || by_role(MISSING, FORBID, Yes, Yes);
    let owner_only = || by_role(MISSING, FORBID, FORBID, Yes);
    let mut rows = vec![
        row("Query.me", "{ me { id } }", signed_in(Yes)),
        row(
            "Query.user",
            "query($u: ID!) { user(id: $u) { id } }",
            signed_in(Yes),
        ),
        row("Query.users", "{ users { nodes { id } } }", signed_in(Yes)),
        row(
            "Query.conversations",
            "{ conversations { nodes { id } } }",
            signed_in(Yes),
        ),
        row("Query.unreadCount", "{ unreadCount }", signed_in(Yes)),
        row(
            "Query.unreadMentionCount",
            "{ unreadMentionCount }",
            signed_in(Yes),
        ),
        row("Query.myStats", "{ myStats { active } }", signed_in(Yes)),
        content(
            "Query.conversation",
            "query($c: ID!) { conversation(id: $c) { id } }",
        ),
        content("Query.node", "query($c: ID!) { node(id: $c) { id } }"),
        row(
            "Query.searchMessages",
            "query($c: ID!) { searchMessages(query: \"hello\", conversationId: $c) { nodes { message { id } snippet { text } } } }",
            member_only(),
        ),
        row(
            "Mutation.register",
            "mutation($n: String!) { register(input: {username: $n, password: \"password123\"}) { token } }",
            |_| Yes,
        )
        .host(Yes),
        row(
            "Mutation.login",
            "mutation($o: String!) { login(input: {username: $o, password: \"correct horse\"}) { token } }",
            |_| Yes,
        )
        .host(Yes),
        row("Mutation.logout", "mutation { logout }", signed_in(Yes)).destructive(),
        row(
            "Mutation.openDirectConversation",
            "mutation($x: ID!) { openDirectConversation(userId: $x) { id } }",
            signed_in(Yes),
        ),
        row(
            "Mutation.createGroupConversation",
            "mutation($x: ID!) { createGroupConversation(input: {title: \"t\", memberIds: [$x]}) { id } }",
            signed_in(Yes),
        )
        .host(Yes),
        row(
            "Mutation.sendMessage",
            "mutation($c: ID!) { sendMessage(input: {conversationId: $c, body: \"hi\"}) { id } }",
            member_only(),
        ),
        // The world's message was sent by the member: only its author
        // edits it; the author, admins, owners and the host app delete it.
        row(
            "Mutation.editMessage",
            "mutation($m: ID!) { editMessage(id: $m, body: \"edited\") { id } }",
            by_role(MISSING, Yes, FORBID, FORBID),
        ),
        row(
            "Mutation.deleteMessage",
            "mutation($m: ID!) { deleteMessage(id: $m) { id } }",
            member_only(),
        )
        .host(Yes)
        .destructive(),
        row(
            "Mutation.addReaction",
            "mutation($m: ID!) { addReaction(messageId: $m, emoji: \"👍\") { id } }",
            member_only(),
        ),
        row(
            "Mutation.removeReaction",
            "mutation($m: ID!) { removeReaction(messageId: $m, emoji: \"👍\") { id } }",
            member_only(),
        ),
        row(
            "Mutation.markRead",
            "mutation($c: ID!) { markRead(input: {conversationId: $c}) { id } }",
            member_only(),
        ),
        row(
            "Mutation.markUnread",
            "mutation($c: ID!) { markUnread(conversationId: $c, fromSeq: 1) { id } }",
            member_only(),
        ),
        row(
            "Mutation.setTyping",
            "mutation($c: ID!) { setTyping(conversationId: $c, typing: true) }",
            member_only(),
        ),
        row(
            "Mutation.markDelivered",
            "mutation($c: ID!) { markDelivered(conversationId: $c, upToSeq: 1) { id } }",
            member_only(),
        ),
        row(
            "Mutation.addMembers",
            "mutation($c: ID!, $x: ID!) { addMembers(conversationId: $c, userIds: [$x]) { id } }",
            managers(),
        )
        .host(Yes),
        row(
            "Mutation.removeMember",
            "mutation($c: ID!, $t: ID!) { removeMember(conversationId: $c, userId: $t) { id } }",
            managers(),
        )
        .host(Yes)
        .destructive(),
        row(
            "Mutation.leaveConversation",
            "mutation($c: ID!) { leaveConversation(conversationId: $c) { deleted } }",
            member_only(),
        )
        .destructive(),
        row(
            "Mutation.setMemberRole",
            "mutation($c: ID!, $t: ID!) { setMemberRole(conversationId: $c, userId: $t, role: ADMIN) { id } }",
            owner_only(),
        )
        .host(Yes),
        row(
            "Mutation.updateConversation",
            "mutation($c: ID!) { updateConversation(input: {id: $c, description: \"d\"}) { id } }",
            managers(),
        )
        .host(Yes),
        row(
            "Mutation.archiveConversation",
            "mutation($c: ID!) { archiveConversation(id: $c) { id } }",
            member_only(),
        ),
        row(
            "Mutation.unarchiveConversation",
            "mutation($c: ID!) { unarchiveConversation(id: $c) { id } }",
            member_only(),
        ),
        row(
            "Mutation.muteConversation",
            "mutation($c: ID!) { muteConversation(id: $c) { id } }",
            member_only(),
        ),
        row(
            "Mutation.unmuteConversation",
            "mutation($c: ID!) { unmuteConversation(id: $c) { id } }",
            member_only(),
        ),
        row(
            "Mutation.deleteConversation",
            "mutation($c: ID!) { deleteConversation(id: $c) }",
            owner_only(),
        )
        .host(Yes)
        .destructive(),
        Row {
            deleted_first: true,
            ..row(
                "Mutation.restoreConversation",
                "mutation($c: ID!) { restoreConversation(id: $c) { id } }",
                owner_only(),
            )
            .host(Yes)
            .destructive()
        },
        row(
            "Mutation.deleteConversationPermanently",
            "mutation($c: ID!) { deleteConversationPermanently(id: $c) }",
            owner_only(),
        )
        .host(Yes)
        .destructive(),
        row("Query.sessions", "{ sessions { nodes { id } } }", signed_in(Yes)),
        row(
            "Mutation.updateProfile",
            "mutation { updateProfile(input: {displayName: \"New name\"}) { id } }",
            signed_in(Yes),
        ),
        row(
            "Mutation.changePassword",
            "mutation { changePassword(currentPassword: \"correct horse\", newPassword: \"battery staple\") }",
            signed_in(Yes),
        )
        .destructive(),
        // Another user's session looks like one that does not exist.
        row(
            "Mutation.revokeSession",
            "mutation { revokeSession(id: \"U2Vzc2lvbjo5OTk5OTk5\") }",
            signed_in(MISSING),
        ),
        // Data rights (tests/api/data_rights.rs): one's own data and
        // account; deleting someone else's is the host app's alone.
        row(
            "Query.exportMyData",
            "{ exportMyData(first: 1) }",
            signed_in(Yes),
        ),
        row(
            "Mutation.deleteMyAccount",
            "mutation { deleteMyAccount(password: \"correct horse\") }",
            signed_in(Yes),
        )
        .destructive(),
        row(
            "Mutation.deleteUser",
            "mutation($x: ID!) { deleteUser(id: $x) }",
            signed_in(FORBID),
        )
        .host(Yes)
        .destructive(),
        // Host-app operations: people, signed in or not, are not the host
        // app (more of the admin key's rules are in tests/api/host_app.rs).
        row(
            "Mutation.upsertUser",
            "mutation { upsertUser(input: {externalId: \"ext-1\"}) { id } }",
            signed_in(FORBID),
        )
        .host(Yes),
        row(
            "Mutation.sendMessageAs",
            "mutation($c: ID!, $b: ID!) { sendMessageAs(input: {userId: $b, conversationId: $c, body: \"x\"}) { id } }",
            signed_in(FORBID),
        )
        .host(Yes),
        // Webhook endpoints see every conversation: the admin key only.
        row(
            "Query.webhookEndpoints",
            "{ webhookEndpoints { id backlog } }",
            signed_in(FORBID),
        )
        .host(Yes),
        row(
            "Mutation.createWebhookEndpoint",
            "mutation { createWebhookEndpoint(input: {url: \"https://hooks.example.com/p\", eventTypes: [MESSAGE_ADDED]}) { secret } }",
            signed_in(FORBID),
        )
        .host(Yes),
        // An endpoint that does not exist: the admin key learns so.
        row(
            "Mutation.updateWebhookEndpoint",
            "mutation { updateWebhookEndpoint(id: \"V2ViaG9va0VuZHBvaW50Ojk5OTk5\", input: {onlyOffline: true}) { id } }",
            signed_in(FORBID),
        )
        .host(MISSING),
        row(
            "Mutation.deleteWebhookEndpoint",
            "mutation { deleteWebhookEndpoint(id: \"V2ViaG9va0VuZHBvaW50Ojk5OTk5\") }",
            signed_in(FORBID),
        )
        .host(MISSING),
        row(
            "Mutation.resumeWebhookEndpoint",
            "mutation { resumeWebhookEndpoint(id: \"V2ViaG9va0VuZHBvaW50Ojk5OTk5\") { id } }",
            signed_in(FORBID),
        )
        .host(MISSING),
        // Streaming: only the author appends; the author and a group's
        // owners and admins finish; `$s` is the bot's streaming message, so
        // the admin key may do both.
        row(
            "Mutation.appendToMessage",
            "mutation($s: ID!) { appendToMessage(id: $s, text: \"x\") { length } }",
            by_role(MISSING, FORBID, FORBID, FORBID),
        )
        .host(Yes),
        row(
            "Mutation.finishMessage",
            "mutation($s: ID!) { finishMessage(id: $s) { id } }",
            by_role(MISSING, FORBID, Yes, Yes),
        )
        .host(Yes)
        .destructive(),
        row(
            "Mutation.importMessages",
            "mutation($c: ID!, $u: ID!) { importMessages(conversationId: $c, messages: [{externalId: \"x-1\", senderId: $u, body: \"old\", createdAt: \"2020-01-01T00:00:00Z\"}]) { imported } }",
            signed_in(FORBID),
        )
        .host(Yes),
        // Moderation (more in tests/api/moderation.rs): blocking is each
        // person's own; bans are for managers; reports are for whoever
        // sees the message; the queue, the reads and the audit log are the
        // admin key's.
        row("Query.blockedUsers", "{ blockedUsers { id } }", signed_in(Yes)),
        row(
            "Mutation.blockUser",
            "mutation($x: ID!) { blockUser(userId: $x) { id } }",
            signed_in(Yes),
        ),
        row(
            "Mutation.unblockUser",
            "mutation($x: ID!) { unblockUser(userId: $x) { id } }",
            signed_in(Yes),
        ),
        row(
            "Query.bans",
            "query($c: ID!) { bans(conversationId: $c) { reason } }",
            managers(),
        )
        .host(Yes),
        row(
            "Mutation.banMember",
            "mutation($c: ID!, $x: ID!) { banMember(conversationId: $c, userId: $x, reason: \"spam\") { reason } }",
            managers(),
        )
        .host(Yes)
        .destructive(),
        row(
            "Mutation.unbanMember",
            "mutation($c: ID!, $x: ID!) { unbanMember(conversationId: $c, userId: $x) }",
            managers(),
        )
        .host(Yes),
        row(
            "Mutation.reportMessage",
            "mutation($m: ID!) { reportMessage(messageId: $m, reason: \"spam\") { id } }",
            member_only(),
        ),
        row(
            "Query.reports",
            "{ reports { nodes { id reason } } }",
            signed_in(FORBID),
        )
        .host(Yes),
        // No such report: people are refused before the id is looked at.
        row(
            "Mutation.resolveReport",
            "mutation { resolveReport(id: \"UmVwb3J0Ojk5OTk5OTk\", resolution: \"ok\") { id } }",
            signed_in(FORBID),
        )
        .host(MISSING),
        row(
            "Query.adminConversation",
            "query($c: ID!) { adminConversation(id: $c) { id title } }",
            signed_in(FORBID),
        )
        .host(Yes),
        row(
            "Query.adminMessages",
            "query($c: ID!) { adminMessages(conversationId: $c) { nodes { id body } } }",
            signed_in(FORBID),
        )
        .host(Yes),
        row(
            "Query.adminMessage",
            "query($m: ID!) { adminMessage(id: $m) { id body } }",
            signed_in(FORBID),
        )
        .host(Yes),
        row(
            "Query.adminUser",
            "query($u: ID!) { adminUser(id: $u) { id } }",
            signed_in(FORBID),
        )
        .host(Yes),
        row(
            "Query.auditLog",
            "{ auditLog { nodes { action } } }",
            signed_in(FORBID),
        )
        .host(Yes),
        // Subscriptions run over the WebSocket (see `run_subscription`).
        row(
            "Subscription.events",
            "subscription { events { __typename } }",
            signed_in(Yes),
        ),
        row(
            "Subscription.conversationEvents",
            "subscription($c: ID!) { conversationEvents(conversationId: $c) { __typename } }",
            by_role(MISSING, Yes, Yes, Yes),
        ),
        row(
            "Subscription.messageAdded",
            "subscription($c: ID!) { messageAdded(conversationId: $c, afterSeq: 0) { id } }",
            by_role(MISSING, Yes, Yes, Yes),
        ),
    ];
    // Every field of the types that carry conversation content, reached
    // through the conversation (or a message of it).
    for (field, doc) in [
        ("Conversation.id", "id"),
        ("Conversation.kind", "kind"),
        ("Conversation.title", "title"),
        ("Conversation.context", "context"),
        ("Conversation.description", "description"),
        ("Conversation.avatarUrl", "avatarUrl"),
        ("Conversation.metadata", "metadata"),
        ("Conversation.myRole", "myRole"),
        ("Conversation.archived", "archived"),
        ("Conversation.muted", "muted"),
        ("Conversation.mutedUntil", "mutedUntil"),
        ("Conversation.deletedAt", "deletedAt"),
        ("Conversation.lastSeq", "lastSeq"),
        ("Conversation.lastActivityAt", "lastActivityAt"),
        ("Conversation.createdAt", "createdAt"),
        ("Conversation.lastMessage", "lastMessage { id }"),
        ("Conversation.unreadCount", "unreadCount"),
        ("Conversation.unreadMentionCount", "unreadMentionCount"),
        ("Conversation.historyVisibility", "historyVisibility"),
        ("Conversation.lastReadSeq", "lastReadSeq"),
        ("Conversation.memberCount", "memberCount"),
        ("Conversation.members", "members { nodes { role } }"),
        ("Conversation.messages", "messages { nodes { id } }"),
    ] {
        rows.push(content_field(field, "conversation(id: $c) {", doc));
    }
    for (field, doc) in [
        ("ConversationMember.user", "user { id }"),
        ("ConversationMember.role", "role"),
        ("ConversationMember.lastReadSeq", "lastReadSeq"),
        ("ConversationMember.lastDeliveredSeq", "lastDeliveredSeq"),
        ("ConversationMember.joinedAt", "joinedAt"),
    ] {
        rows.push(content_field(
            field,
            "conversation(id: $c) { members { nodes {",
            doc,
        ));
    }
    for (field, doc) in [
        ("Message.id", "id"),
        ("Message.seq", "seq"),
        ("Message.conversationId", "conversationId"),
        ("Message.conversation", "conversation { id }"),
        ("Message.sender", "sender { id }"),
        ("Message.body", "body"),
        ("Message.clientMessageId", "clientMessageId"),
        ("Message.createdAt", "createdAt"),
        ("Message.kind", "kind"),
        ("Message.status", "status"),
        ("Message.metadata", "metadata"),
        ("Message.attachments", "attachments { url }"),
        ("Message.streaming", "streaming"),
        ("Message.externalId", "externalId"),
        ("Message.editedAt", "editedAt"),
        ("Message.edits", "edits { body editedAt }"),
        ("Message.deletedAt", "deletedAt"),
        ("Message.replyTo", "replyTo { id }"),
        ("Message.threadRootId", "threadRootId"),
        ("Message.replyCount", "replyCount"),
        ("Message.lastReplyAt", "lastReplyAt"),
        ("Message.replies", "replies { nodes { id } }"),
        ("Message.reactions", "reactions { emoji count reactedByMe }"),
        ("Message.mentions", "mentions { id }"),
    ] {
        rows.push(content_field(field, "node(id: $m) { ... on Message {", doc));
    }
    rows
}

/// A content field reached through `path` (an unclosed selection).
fn content_field(field: &'static str, path: &'static str, selection: &'static str) -> Row {
    let opened = path.matches('{').count();
    let variable = if path.contains("$m") { "$m" } else { "$c" };
    let doc = format!(
        "query({variable}: ID!) {{ {path} {selection} {} }}",
        "}".repeat(opened)
    );
    content(field, Box::leak(doc.into_boxed_str()))
}

/// The people and the group every row runs against.
struct World {
    app: TestApp,
    tokens: HashMap<&'static str, String>,
    vars: Value,
}

async fn world(deleted: bool) -> Result<World> {
    // A world lives for minutes on a slow machine: its streaming message
    // must outlast the sweeper's timeout.
    let app = spawn_app_with(|c| {
        c.jwt_secret = Some(api::config::Secret::new(jwt::SECRET));
        c.jwt_leeway = std::time::Duration::ZERO;
        c.admin_key = Some(api::config::Secret::new(jwt::ADMIN_KEY));
        c.streaming_timeout = std::time::Duration::from_secs(24 * 3600);
    })
    .await?;
    let tag = &service::accounts::new_token()?[..8]
        .to_lowercase()
        .replace(['-', '_'], "x");
    let user = |name: &str| format!("{name}{tag}");
    let owner = app.register(&user("owner")).await?;
    let admin = app.register(&user("admin")).await?;
    let member = app.register(&user("member")).await?;
    let removed = app.register(&user("removed")).await?;
    let outsider = app.register(&user("outsider")).await?;
    let target = app.register(&user("target")).await?;
    let extra = app.register(&user("extra")).await?;
    let expired = app.register(&user("expired")).await?;
    let group = app
        .ok(
            &owner.token,
            "mutation($m: [ID!]!) { createGroupConversation(input: {title: \"g\", memberIds: $m}) { id } }",
            json!({"m": [admin.id, member.id, removed.id, target.id]}),
        )
        .await?["createGroupConversation"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let c = json!(group);
    // The host app's assistant, a member that `sendMessageAs` speaks for.
    let bot = app
        .admin(
            "mutation { upsertUser(input: {externalId: \"assistant\", isBot: true}) { id } }",
            json!({}),
        )
        .await?["upsertUser"]["id"]
        .clone();
    app.admin(
        "mutation($c: ID!, $b: ID!) { addMembers(conversationId: $c, userIds: [$b]) { id } }",
        json!({"c": c, "b": bot}),
    )
    .await?;
    app.ok(
        &owner.token,
        "mutation($c: ID!, $u: ID!) { setMemberRole(conversationId: $c, userId: $u, role: ADMIN) { id } }",
        json!({"c": c, "u": admin.id}),
    )
    .await?;
    let message = app.send(&member, &group, "secret").await?;
    let streamed = app
        .admin(
            "mutation($c: ID!, $b: ID!) { sendMessageAs(input: {userId: $b, conversationId: $c, streaming: true}) { id } }",
            json!({"c": c, "b": bot}),
        )
        .await?["sendMessageAs"]["id"]
        .clone();
    app.ok(
        &owner.token,
        "mutation($c: ID!, $u: ID!) { removeMember(conversationId: $c, userId: $u) { id } }",
        json!({"c": c, "u": removed.id}),
    )
    .await?;
    expire(&app, &expired).await?;
    if deleted {
        app.ok(
            &owner.token,
            "mutation($c: ID!) { deleteConversation(id: $c) }",
            json!({"c": c}),
        )
        .await?;
    }
    let tokens = HashMap::from([
        ("owner", owner.token.clone()),
        ("admin", admin.token),
        ("member", member.token),
        ("removed", removed.token),
        ("outsider", outsider.token),
        ("expired", expired.token),
    ]);
    let vars = json!({
        "c": c,
        "m": message["id"],
        "s": streamed,
        "u": member.id,
        "t": target.id,
        "x": extra.id,
        "b": bot,
        "o": owner.username,
        "n": user("fresh"),
    });
    Ok(World { app, tokens, vars })
}

/// Moves the user's sessions into the past.
/// Expires the user's sessions behind the server's back; the token must
/// not have been used yet, or the session cache would trust it a while.
async fn expire(app: &TestApp, user: &TestUser) -> Result<()> {
    let id = parley_tests::decode_id(&user.id)?;
    session::Entity::update_many()
        .col_expr(
            session::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::hours(1)),
        )
        .filter(session::Column::UserId.eq(id))
        .exec(app.service.db())
        .await?;
    Ok(())
}

fn token_of(world: &World, who: Who) -> Option<&str> {
    let key = match who {
        Who::Anonymous => return None,
        Who::Expired => "expired",
        Who::NonMember => "outsider",
        Who::Removed => "removed",
        Who::Member => "member",
        Who::Admin => "admin",
        Who::Owner => "owner",
        Who::AdminKey => return Some(jwt::ADMIN_KEY),
    };
    world.tokens.get(key).map(String::as_str)
}

/// What the caller got: an error code, a `null` top-level field, or data.
fn outcome(response: &Value) -> Expect {
    if response["errors"].is_array() {
        return match error_code(response) {
            "UNAUTHENTICATED" => UNAUTH,
            "FORBIDDEN" => FORBID,
            "NOT_FOUND" => MISSING,
            "BAD_USER_INPUT" => Code("BAD_USER_INPUT"),
            "CONFLICT" => Code("CONFLICT"),
            _ => Code("OTHER"),
        };
    }
    let data = response["data"].as_object();
    match data.and_then(|d| d.values().next()) {
        Some(Value::Null) => Null,
        // A content field under a visible parent that came back null
        // (a message of a conversation the caller cannot see).
        Some(v) if v.get("conversation").is_some_and(Value::is_null) => Null,
        Some(_) => Yes,
        None => Code("OTHER"),
    }
}

async fn run(world: &World, row: &Row, who: Who, vars: &Value) -> Result<Expect> {
    if row.field.starts_with("Subscription.") {
        return run_subscription(world, row, who, vars).await;
    }
    let response = world
        .app
        .gql(token_of(world, who), row.doc, vars.clone())
        .await?;
    Ok(outcome(&response))
}

async fn run_subscription(world: &World, row: &Row, who: Who, vars: &Value) -> Result<Expect> {
    let Some(token) = token_of(world, who) else {
        return Ok(UNAUTH);
    };
    if who == Who::AdminKey {
        // Sockets are for people: the admin key is closed with 4403.
        let mut ws = WsClient::connect(&world.app.ws_url(), "graphql-transport-ws").await?;
        ws.send(json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}}))
            .await?;
        return Ok(match ws.closed().await?.0 {
            4403 => FORBID,
            _ => Code("OTHER"),
        });
    }
    let Ok(mut ws) = world.app.ws(token).await else {
        // The socket refused the token at `connection_init`.
        return Ok(UNAUTH);
    };
    ws.subscribe("1", row.doc, vars.clone()).await?;
    let first = ws.next_within(std::time::Duration::from_secs(5)).await?;
    match first["type"].as_str() {
        Some("next") if first["payload"]["errors"].is_array() => Ok(outcome(&first["payload"])),
        Some("next") => Ok(Yes),
        Some("error") => Ok(outcome(&json!({"errors": first["payload"]}))),
        _ => bail!("unexpected subscription message {first}"),
    }
}

#[tokio::test]
async fn every_field_has_a_row_and_every_caller_gets_its_answer() -> Result<()> {
    let rows = rows();
    let shared = world(false).await?;

    // The schema's fields: every root field and every field of the types
    // that carry conversation content must have a row.
    let schema = shared
        .app
        .ok(
            &shared.tokens["owner"],
            "{ __schema { queryType { fields { name } } mutationType { fields { name } }
               subscriptionType { fields { name } } }
               c: __type(name: \"Conversation\") { fields { name } }
               cm: __type(name: \"ConversationMember\") { fields { name } }
               m: __type(name: \"Message\") { fields { name } } }",
            json!({}),
        )
        .await?;
    let names = |v: &Value| -> Vec<String> {
        v["fields"]
            .as_array()
            .map(|f| {
                f.iter()
                    .filter_map(|f| f["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut required = BTreeSet::new();
    for (prefix, value) in [
        ("Query", &schema["__schema"]["queryType"]),
        ("Mutation", &schema["__schema"]["mutationType"]),
        ("Subscription", &schema["__schema"]["subscriptionType"]),
        ("Conversation", &schema["c"]),
        ("ConversationMember", &schema["cm"]),
        ("Message", &schema["m"]),
    ] {
        for name in names(value) {
            required.insert(format!("{prefix}.{name}"));
        }
    }
    let covered: BTreeSet<String> = rows.iter().map(|r| r.field.to_owned()).collect();
    let missing: Vec<&String> = required.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "fields without an authorization row: {missing:?}"
    );

    let mut failures = Vec::new();
    let deleted_world = world(true).await?;
    for row in &rows {
        for who in EVERYONE {
            let fresh;
            let world = if row.destructive {
                fresh = world(row.deleted_first).await?;
                &fresh
            } else if row.deleted_first {
                &deleted_world
            } else {
                &shared
            };
            let mut vars = world.vars.clone();
            // A new username for each caller that registers.
            vars["n"] = json!(format!(
                "{}{}",
                vars["n"].as_str().unwrap_or("x"),
                who as u8
            ));
            let got = run(world, row, who, &vars).await?;
            let want = row.expect(who);
            if got != want {
                failures.push(format!(
                    "{} as {who:?}: got {got:?}, want {want:?}",
                    row.field
                ));
            }
            // Outsiders cannot tell a conversation they are not in from
            // one that does not exist; the host app sees everything, so a
            // missing id is `NOT_FOUND` wherever it may act.
            let names_content = ["$c", "$m", "$s"].iter().any(|v| row.doc.contains(v));
            let missing_want = match who {
                Who::NonMember => Some(got),
                Who::AdminKey if row.host == Yes => Some(MISSING),
                _ => None,
            };
            if let Some(missing_want) = missing_want.filter(|_| names_content) {
                vars["c"] = json!("Q29udmVyc2F0aW9uOjk5OTk5OTk");
                vars["m"] = json!("TWVzc2FnZTo5OTk5OTk5");
                vars["s"] = json!("TWVzc2FnZTo5OTk5OTk5");
                let missing_id = run(world, row, who, &vars).await?;
                if missing_id != missing_want {
                    failures.push(format!(
                        "{} as {who:?}: a missing id got {missing_id:?}, want {missing_want:?}",
                        row.field
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}
