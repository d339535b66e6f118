//! Several instances on one PostgreSQL behave like one (issue 15): three
//! `parley serve` processes on a fresh database, clients spread over them.
//! PostgreSQL only; on SQLite the test says so and returns, and a second
//! server on the same SQLite file is refused.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail, ensure};
use parley_tests::{TestDb, TestUser, WsClient, error_code, instance::Instance};
use serde_json::{Value, json};

const MESSAGE_ADDED: &str =
    "subscription($c: ID!, $s: Int) { messageAdded(conversationId: $c, afterSeq: $s) { id seq } }";
const FIELDS: &str = "__typename cursor
    ... on MessageAddedEvent { message { id seq } }
    ... on TypingEvent { typing user { id } }
    ... on PresenceEvent { online user { id } }
    ... on MessageAppendedEvent { messageId text }";
const SEND: &str = "mutation($c: ID!, $b: String!) { sendMessage(input: {conversationId: $c, body: $b}) { id seq } }";
const ONLINE: &str = "query($u: ID!) { user(id: $u) { online } }";
/// Time allowed for anything to cross instances in this test (the target
/// is far lower; the machine is shared).
const WAIT: Duration = Duration::from_secs(20);
/// Presence expiry of the instances: a killed instance's users go offline
/// within it (plus a heartbeat).
const EXPIRY: &str = "2s";

fn events_query() -> String {
    format!("subscription($a: String) {{ events(after: $a) {{ {FIELDS} }} }}")
}

fn conversation_events_query() -> String {
    format!(
        "subscription($c: ID!, $a: String) {{ conversationEvents(conversationId: $c, after: $a) {{ {FIELDS} }} }}"
    )
}

/// One client's socket with its three subscriptions (`m`: messageAdded,
/// `e`: events, `c`: conversationEvents) and everything they yielded.
struct Watcher {
    name: &'static str,
    ws: WsClient,
    got: HashMap<String, Vec<Value>>,
}

impl Watcher {
    async fn open(
        instance: &Instance,
        name: &'static str,
        user: &TestUser,
        conversation: &str,
        after_seq: i64,
        after: Option<(&str, &str)>,
    ) -> Result<Self> {
        let mut ws = instance.ws(&user.token).await?;
        ws.subscribe(
            "m",
            MESSAGE_ADDED,
            json!({"c": conversation, "s": after_seq}),
        )
        .await?;
        ws.subscribe("e", &events_query(), json!({"a": after.map(|a| a.0)}))
            .await?;
        ws.subscribe(
            "c",
            &conversation_events_query(),
            json!({"c": conversation, "a": after.map(|a| a.1)}),
        )
        .await?;
        let mut watcher = Self {
            name,
            ws,
            got: HashMap::new(),
        };
        watcher
            .until("both streams live", |w| {
                w.count("e", "StreamLiveEvent") == 1 && w.count("c", "StreamLiveEvent") == 1
            })
            .await?;
        Ok(watcher)
    }

    /// Reads until `done` holds, for at most [`WAIT`].
    async fn until(&mut self, what: &str, done: impl Fn(&Self) -> bool) -> Result<()> {
        let deadline = Instant::now() + WAIT;
        while !done(self) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!(
                    "{}: no {what} within {WAIT:?}; got {:#?}",
                    self.name,
                    self.got
                );
            }
            let message = self
                .ws
                .next_within(left)
                .await
                .with_context(|| format!("{}: waiting for {what}", self.name))?;
            self.take(message)?;
        }
        Ok(())
    }

    /// Reads whatever comes within `wait`.
    async fn drain(&mut self, wait: Duration) -> Result<()> {
        while let Ok(message) = self.ws.next_within(wait).await {
            self.take(message)?;
        }
        Ok(())
    }

    fn take(&mut self, message: Value) -> Result<()> {
        let id = message["id"].as_str().unwrap_or_default().to_owned();
        match message["type"].as_str() {
            Some("next") => {
                let data = &message["payload"]["data"];
                let item = match id.as_str() {
                    "m" => data["messageAdded"].clone(),
                    "e" => data["events"].clone(),
                    _ => data["conversationEvents"].clone(),
                };
                ensure!(
                    !item.is_null(),
                    "{}: an error on {id}: {message}",
                    self.name
                );
                self.got.entry(id).or_default().push(item);
                Ok(())
            }
            _ => bail!("{}: unexpected {message}", self.name),
        }
    }

    fn items(&self, id: &str) -> &[Value] {
        self.got.get(id).map_or(&[], Vec::as_slice)
    }

    fn count(&self, id: &str, typename: &str) -> usize {
        self.items(id)
            .iter()
            .filter(|e| e["__typename"] == typename)
            .count()
    }

    /// The message ids of `messageAdded`, or of the `MessageAddedEvent`s
    /// of a stream.
    fn message_ids(&self, id: &str) -> Vec<String> {
        self.items(id)
            .iter()
            .filter_map(|e| match id {
                "m" => e["id"].as_str(),
                _ => e["message"]["id"].as_str(),
            })
            .map(str::to_owned)
            .collect()
    }

    fn seqs(&self) -> Vec<i64> {
        self.items("m")
            .iter()
            .filter_map(|m| m["seq"].as_i64())
            .collect()
    }

    fn has_all(&self, ids: &[String]) -> bool {
        ["m", "e", "c"].iter().all(|sub| {
            let seen: HashSet<String> = self.message_ids(sub).into_iter().collect();
            ids.iter().all(|id| seen.contains(id))
        })
    }

    /// The last cursor of a stream.
    fn cursor(&self, id: &str) -> Option<String> {
        self.items(id)
            .iter()
            .rev()
            .find_map(|e| e["cursor"].as_str())
            .map(str::to_owned)
    }

    /// Live events of one kind about `user`, as `(field value)` in order.
    fn about(&self, id: &str, typename: &str, user: &TestUser, field: &str) -> Vec<Value> {
        self.items(id)
            .iter()
            .filter(|e| e["__typename"] == typename && e["user"]["id"] == user.id.as_str())
            .map(|e| e[field].clone())
            .collect()
    }
}

/// Every id exactly once, and messageAdded in seq order with no gap.
fn check_exact(watcher: &Watcher, sent: &[String]) -> Result<()> {
    for sub in ["m", "e", "c"] {
        let ids = watcher.message_ids(sub);
        let unique: HashSet<&String> = ids.iter().collect();
        ensure!(
            unique.len() == ids.len(),
            "{} {sub}: a message came twice: {ids:?}",
            watcher.name
        );
        for id in sent {
            ensure!(
                unique.contains(id),
                "{} {sub}: message {id} never came",
                watcher.name
            );
        }
    }
    let seqs = watcher.seqs();
    ensure!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "{} m: seqs not in order, or with a gap: {seqs:?}",
        watcher.name
    );
    // Streams in cursor order.
    for sub in ["e", "c"] {
        let cursors: Vec<&str> = watcher
            .items(sub)
            .iter()
            .filter(|e| e["__typename"] == "MessageAddedEvent")
            .filter_map(|e| e["cursor"].as_str())
            .collect();
        let numbers: Vec<u64> = cursors.iter().filter_map(|c| c.parse().ok()).collect();
        if numbers.len() == cursors.len() {
            ensure!(
                numbers.windows(2).all(|w| w[0] < w[1]),
                "{} {sub}: out of order: {cursors:?}",
                watcher.name
            );
        }
    }
    Ok(())
}

async fn send_all(
    instance: &Instance,
    user: &TestUser,
    group: &str,
    n: usize,
) -> Result<Vec<String>> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let data = instance
            .ok(
                &user.token,
                SEND,
                json!({"c": group, "b": format!("{} {i}", user.username)}),
            )
            .await?;
        ids.push(
            data["sendMessage"]["id"]
                .as_str()
                .context("no id")?
                .to_owned(),
        );
    }
    Ok(ids)
}

async fn online(instance: &Instance, viewer: &TestUser, user: &TestUser) -> Result<bool> {
    let data = instance
        .ok(&viewer.token, ONLINE, json!({"u": user.id}))
        .await?;
    data["user"]["online"].as_bool().context("no online")
}

#[tokio::test]
async fn three_instances_on_one_postgres_behave_like_one() -> Result<()> {
    let admin_url = match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => url,
        _ => {
            println!(
                "three_instances_on_one_postgres_behave_like_one: PostgreSQL only; set TEST_DATABASE_URL to run it"
            );
            return Ok(());
        }
    };
    let db = TestDb::postgres(admin_url).await?;
    let settings = [("PARLEY_PRESENCE_EXPIRY", EXPIRY)];
    // The first migrates; the others find the schema in place.
    let url = db.url();
    let a = Instance::start(&url, &settings).await?;
    let (b, c) = tokio::try_join!(
        Instance::start(&url, &settings),
        Instance::start(&url, &settings)
    )?;
    let mut c = c;

    let s1 = a.register("sender1").await?;
    let s2 = b.register("sender2").await?;
    let wa = a.register("watcher_a").await?;
    let wb = b.register("watcher_b").await?;
    let wc = c.register("watcher_c").await?;
    let p = c.register("present").await?;
    let group = a
        .ok(
            &s1.token,
            "mutation($m: [ID!]!) { createGroupConversation(input: {title: \"all\", memberIds: $m}) { id } }",
            json!({"m": [&s2.id, &wa.id, &wb.id, &wc.id, &p.id]}),
        )
        .await?["createGroupConversation"]["id"]
        .as_str()
        .context("no group id")?
        .to_owned();

    let mut watchers = vec![
        Watcher::open(&a, "watcher on A", &wa, &group, 0, None).await?,
        Watcher::open(&b, "watcher on B", &wb, &group, 0, None).await?,
        Watcher::open(&c, "watcher on C", &wc, &group, 0, None).await?,
    ];

    // Senders on two instances at once: every subscriber everywhere gets
    // every message once, in order.
    let (one, two) =
        tokio::try_join!(send_all(&a, &s1, &group, 20), send_all(&b, &s2, &group, 20))?;
    let mut sent: Vec<String> = one.into_iter().chain(two).collect();
    for w in &mut watchers {
        w.until("all 40 messages", |w| w.has_all(&sent)).await?;
    }

    // Typing on A reaches B and C, once each way.
    a.ok(
        &s1.token,
        "mutation($c: ID!) { setTyping(conversationId: $c, typing: true) }",
        json!({"c": group}),
    )
    .await?;
    a.ok(
        &s1.token,
        "mutation($c: ID!) { setTyping(conversationId: $c, typing: false) }",
        json!({"c": group}),
    )
    .await?;
    for w in &mut watchers {
        w.until("typing true then false", |w| {
            w.about("e", "TypingEvent", &s1, "typing").len() >= 2
        })
        .await?;
    }

    // Streamed text from B, one piece longer than a NOTIFY payload.
    let streamed = b
        .ok(
            &s2.token,
            "mutation($c: ID!) { sendMessage(input: {conversationId: $c, streaming: true}) { id } }",
            json!({"c": group}),
        )
        .await?["sendMessage"]["id"]
        .as_str()
        .context("no id")?
        .to_owned();
    sent.push(streamed.clone());
    let pieces = ["Hi ".to_owned(), "é\"".repeat(1995), "!".to_owned()];
    for piece in &pieces {
        b.ok(
            &s2.token,
            "mutation($m: ID!, $t: String!) { appendToMessage(id: $m, text: $t) { length } }",
            json!({"m": streamed, "t": piece}),
        )
        .await?;
    }
    let appended = |w: &Watcher, sub: &str| -> Vec<String> {
        w.items(sub)
            .iter()
            .filter(|e| {
                e["__typename"] == "MessageAppendedEvent" && e["messageId"] == streamed.as_str()
            })
            .filter_map(|e| e["text"].as_str().map(str::to_owned))
            .collect()
    };
    for w in &mut watchers {
        w.until("the streamed pieces", |w| {
            appended(w, "e").len() >= 3 && appended(w, "c").len() >= 3
        })
        .await?;
    }

    // Presence: a user whose only socket is on C is online everywhere.
    let present = c.ws(&p.token).await?;
    for w in &mut watchers {
        w.until("presence of the new user", |w| {
            !w.about("e", "PresenceEvent", &p, "online").is_empty()
        })
        .await?;
    }
    ensure!(
        online(&a, &wa, &p).await?,
        "A says the user on C is offline"
    );
    ensure!(
        online(&b, &wb, &p).await?,
        "B says the user on C is offline"
    );

    // Anything duplicated would have come by now.
    for w in &mut watchers {
        w.drain(Duration::from_millis(500)).await?;
        check_exact(w, &sent)?;
        ensure!(
            w.about("e", "TypingEvent", &s1, "typing") == vec![json!(true), json!(false)],
            "{}: typing {:?}",
            w.name,
            w.about("e", "TypingEvent", &s1, "typing")
        );
        for sub in ["e", "c"] {
            ensure!(
                appended(w, sub) == pieces,
                "{} {sub}: streamed text differs",
                w.name
            );
        }
        ensure!(
            w.about("e", "PresenceEvent", &p, "online") == vec![json!(true)],
            "{}: presence {:?}",
            w.name,
            w.about("e", "PresenceEvent", &p, "online")
        );
    }

    // kill -9 of C while its clients are attached: messages go on from A
    // and B; C's users go offline elsewhere; C's watcher resumes on B from
    // what it had, exactly.
    let mut on_c = watchers.pop().context("watcher on C")?;
    let last_seq = on_c.seqs().last().copied().context("no seq")?;
    let (after_e, after_c) = (
        on_c.cursor("e").context("no events cursor")?,
        on_c.cursor("c").context("no conversationEvents cursor")?,
    );
    c.kill().await?;
    drop(present);
    let (one, two) = tokio::try_join!(send_all(&a, &s1, &group, 5), send_all(&b, &s2, &group, 5))?;
    let later: Vec<String> = one.into_iter().chain(two).collect();
    for w in &mut watchers {
        w.until(
            "the later messages and the dead instance's users offline",
            |w| w.has_all(&later) && w.about("e", "PresenceEvent", &p, "online").len() >= 2,
        )
        .await?;
    }
    ensure!(
        !online(&a, &wa, &p).await?,
        "A still says the user on C is online"
    );
    let mut resumed = Watcher::open(
        &b,
        "watcher resumed on B",
        &wc,
        &group,
        last_seq,
        Some((&after_e, &after_c)),
    )
    .await?;
    resumed.drain(Duration::from_millis(500)).await?;
    // What C delivered and what B replayed make exactly everything.
    for sub in ["m", "e", "c"] {
        on_c.got
            .entry(sub.to_owned())
            .or_default()
            .extend(resumed.items(sub).iter().cloned());
    }
    on_c.name = "watcher on C, then B";
    let all: Vec<String> = sent.iter().chain(&later).cloned().collect();
    check_exact(&on_c, &all)?;
    for w in &mut watchers {
        w.drain(Duration::from_millis(300)).await?;
        check_exact(w, &all)?;
        ensure!(
            w.about("e", "PresenceEvent", &p, "online") == vec![json!(true), json!(false)],
            "{}: presence {:?}",
            w.name,
            w.about("e", "PresenceEvent", &p, "online")
        );
    }

    // A logout on B closes the session's sockets on A (and on B), and A's
    // session cache, which had just checked the token, drops it as the
    // signal arrives.
    let mut s2_on_a = a.ws(&s2.token).await?;
    let mut s2_on_b = b.ws(&s2.token).await?;
    a.ok(&s2.token, "{ me { id } }", json!({})).await?;
    b.ok(&s2.token, "mutation { logout }", json!({})).await?;
    let (code, _) = s2_on_a.closed().await?;
    ensure!(code == 4403, "the socket on A closed with {code}");
    let (code, _) = s2_on_b.closed().await?;
    ensure!(code == 4403, "the socket on B closed with {code}");
    let mut refused = false;
    for _ in 0..20 {
        let answer = a.gql(Some(&s2.token), "{ me { id } }", json!({})).await?;
        if error_code(&answer) == "UNAUTHENTICATED" {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    ensure!(refused, "A still accepts the token B logged out");
    Ok(())
}

#[tokio::test]
async fn a_second_server_on_one_sqlite_file_is_refused() -> Result<()> {
    let db = TestDb::sqlite()?;
    let config = api::Config::for_database(db.url())?;
    let first = api::Application::build(config.clone()).await?;
    let Err(err) = api::Application::build(config.clone()).await else {
        bail!("a second server on the same SQLite file started");
    };
    ensure!(
        err.to_string().contains("SQLite serves one instance"),
        "unexpected error: {err}"
    );
    drop(first);
    // Once the first is gone, the file can be served again.
    api::Application::build(config).await?;
    Ok(())
}
