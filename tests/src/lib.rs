//! Helpers for Parley's black-box tests: a real server on port 0 over a
//! fresh database, and HTTP and WebSocket clients that talk to it.
//!
//! The database is a new SQLite file per test, or, when
//! `TEST_DATABASE_URL` names a PostgreSQL server, a new database on it that
//! is dropped when the test ends.

pub mod db;
pub mod instance;
pub mod jwt;
pub mod receiver;
pub mod ws;

use std::{net::SocketAddr, time::Duration};

use anyhow::{Context, Result, bail};
use api::{Application, Config, config::Secret};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use service::Service;
use tokio::{sync::oneshot, task::JoinHandle};

pub use db::TestDb;
pub use ws::WsClient;

/// A running server and what it runs on.
pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub service: Service,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<Result<(), api::StartupError>>>,
    // Dropped last: the database outlives the server.
    _db: TestDb,
}

/// A registered user and their token.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: String,
    pub username: String,
    pub token: String,
}

impl TestUser {
    /// The user in a `register` response (`token user { id }`).
    fn registered(username: &str, response: &Value) -> Result<Self> {
        let payload = &response["data"]["register"];
        let (Some(id), Some(token)) = (payload["user"]["id"].as_str(), payload["token"].as_str())
        else {
            bail!("register failed: {response:#}");
        };
        Ok(Self {
            id: id.to_owned(),
            username: username.to_owned(),
            token: token.to_owned(),
        })
    }
}

pub async fn spawn_app() -> Result<TestApp> {
    spawn_app_with(|_| {}).await
}

/// A server with host-app sign-in on: HS256 JWTs with [`jwt::SECRET`]
/// (no leeway, so expiry tests need not wait) and [`jwt::ADMIN_KEY`].
pub async fn spawn_host_app() -> Result<TestApp> {
    spawn_app_with(|c| {
        c.jwt_secret = Some(Secret::new(jwt::SECRET));
        c.jwt_leeway = Duration::ZERO;
        c.admin_key = Some(Secret::new(jwt::ADMIN_KEY));
    })
    .await
}

/// Starts a server whose config `adjust` may change first.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> Result<TestApp> {
    let db = TestDb::new().await.context("test database")?;
    let mut config = Config::for_database(db.url()).context("default config")?;
    // Every test registers its users from 127.0.0.1 within a second or
    // two; the rate limit tests turn the limits back on.
    config.login_rate_account = None;
    config.login_rate_address = None;
    config.register_rate_address = None;
    adjust(&mut config);
    let app = Application::build(config).await.context("app builds")?;
    let addr = app.local_addr();
    let service = app.service().clone();
    let (stop, stopped) = oneshot::channel();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    Ok(TestApp {
        addr,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?,
        service,
        stop: Some(stop),
        server: Some(server),
        _db: db,
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The body of `GET path`.
    pub async fn get_text(&self, path: &str) -> Result<String> {
        Ok(self.http.get(self.url(path)).send().await?.text().await?)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/graphql/ws", self.addr)
    }

    /// POSTs a GraphQL request and returns the whole JSON response.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Result<Value> {
        let mut request = self
            .http
            .post(self.url("/graphql"))
            .header("accept", "application/graphql-response+json")
            .json(&json!({"query": query, "variables": variables}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.context("request sent")?;
        response.json().await.context("JSON response")
    }

    /// Like [`gql`](Self::gql) but fails unless there are no errors;
    /// returns `data`.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Result<Value> {
        let response = self.gql(Some(token), query, variables).await?;
        if response.get("errors").is_some() {
            bail!("unexpected errors for {query}: {response:#}");
        }
        Ok(response["data"].clone())
    }

    /// Like [`ok`](Self::ok), with the admin key.
    pub async fn admin(&self, query: &str, variables: Value) -> Result<Value> {
        self.ok(jwt::ADMIN_KEY, query, variables).await
    }

    /// Runs one SQL statement with the given values on the app's database.
    pub async fn sql(&self, sql: &str, values: Vec<sea_orm::Value>) -> Result<()> {
        let db = self.service.db();
        db.execute_raw(sea_orm::Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            values,
        ))
        .await
        .context("SQL statement")?;
        Ok(())
    }

    /// The first column of every row of a query, as integers.
    pub async fn sql_ints(&self, sql: &str, values: Vec<sea_orm::Value>) -> Result<Vec<i64>> {
        let db = self.service.db();
        let rows = db
            .query_all_raw(sea_orm::Statement::from_sql_and_values(
                db.get_database_backend(),
                sql,
                values,
            ))
            .await
            .context("SQL query")?;
        rows.iter()
            .map(|row| row.try_get_by_index::<i64>(0).context("integer column"))
            .collect()
    }

    pub async fn register(&self, username: &str) -> Result<TestUser> {
        let response = self
            .gql(
                None,
                "mutation($u: String!) { register(input: {username: $u, password: \"correct horse\"}) { token user { id username } } }",
                json!({"u": username}),
            )
            .await?;
        TestUser::registered(username, &response)
    }

    /// Opens (or gets) the direct conversation of `a` with `b`; its id.
    pub async fn open_direct(&self, a: &TestUser, b: &TestUser) -> Result<String> {
        let data = self
            .ok(
                &a.token,
                "mutation($u: ID!) { openDirectConversation(userId: $u) { id } }",
                json!({"u": b.id}),
            )
            .await?;
        data["openDirectConversation"]["id"]
            .as_str()
            .map(str::to_owned)
            .context("no conversation id")
    }

    /// The delivered pointer as stored (not the pending one the API shows).
    pub async fn stored_delivered(&self, user: &TestUser, conversation: &str) -> Result<i64> {
        let rows = self
            .sql_ints(
                "SELECT last_delivered_seq FROM conversation_members WHERE user_id = $1 AND conversation_id = $2",
                vec![decode_id(&user.id)?.into(), decode_id(conversation)?.into()],
            )
            .await?;
        rows.first().copied().context("no membership")
    }

    /// Creates a group of `owner` with `members`; its id.
    pub async fn create_group(&self, owner: &TestUser, members: &[&TestUser]) -> Result<String> {
        let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
        let data = self
            .ok(
                &owner.token,
                "mutation($m: [ID!]!) { createGroupConversation(input: {title: \"g\", memberIds: $m}) { id } }",
                json!({"m": ids}),
            )
            .await?;
        data["createGroupConversation"]["id"]
            .as_str()
            .map(str::to_owned)
            .context("no conversation id")
    }

    pub async fn send(&self, user: &TestUser, conversation: &str, body: &str) -> Result<Value> {
        let data = self
            .ok(
                &user.token,
                "mutation($c: ID!, $b: String!) { sendMessage(input: {conversationId: $c, body: $b}) { id seq body } }",
                json!({"c": conversation, "b": body}),
            )
            .await?;
        Ok(data["sendMessage"].clone())
    }

    /// A WebSocket speaking graphql-transport-ws, initialised and acked.
    pub async fn ws(&self, token: &str) -> Result<WsClient> {
        let mut client = WsClient::connect(&self.ws_url(), "graphql-transport-ws").await?;
        client
            .send(json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}}))
            .await?;
        let ack = client.next().await?;
        if ack["type"] != "connection_ack" {
            bail!("expected connection_ack, got {ack}");
        }
        Ok(client)
    }

    /// Stops the server as Ctrl-C would and waits until it has.
    pub async fn stop(&mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            tokio::time::timeout(Duration::from_secs(30), server)
                .await
                .context("server did not stop")??
                .context("server failed")?;
        }
        Ok(())
    }
}

/// The row id inside a global id (`base64("User:42")` is 42).
pub fn decode_id(id: &str) -> Result<i64> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(id)?;
    let text = String::from_utf8(bytes)?;
    let (_, raw) = text.split_once(':').context("not a global id")?;
    Ok(raw.parse()?)
}

/// The `extensions.code` of the first error.
pub fn error_code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}
