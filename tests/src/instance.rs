//! `parley serve` as a child process: for tests and benchmarks that need
//! several instances on one database, or one they can kill.

use std::{net::TcpListener, path::PathBuf, process::Stdio, time::Duration};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::{TestUser, WsClient};

/// One running `parley serve`; killed when dropped.
pub struct Instance {
    /// `http://127.0.0.1:port`.
    pub base: String,
    pub http: reqwest::Client,
    child: Child,
}

/// The `parley` binary: `PARLEY_BINARY` if set (to measure another
/// build), else the one of this target directory: next to the running
/// executable (a bench in `target/release`) or one up (a test binary in
/// `target/debug/deps`).
pub fn parley_binary() -> Result<PathBuf> {
    if let Ok(path) = std::env::var("PARLEY_BINARY") {
        return Ok(PathBuf::from(path));
    }
    let me = std::env::current_exe()?;
    let mut dir = me.parent();
    for _ in 0..2 {
        let Some(here) = dir else { break };
        let path = here.join("parley");
        if path.exists() {
            return Ok(path);
        }
        dir = here.parent();
    }
    bail!(
        "the `parley` binary was not found beside {}: build it first (`cargo build -p api`, \
         which `cargo test --workspace` does)",
        me.display()
    )
}

impl Instance {
    /// Starts `parley serve` on `database_url` with extra `PARLEY_*`
    /// settings and waits until it answers `/health`.
    pub async fn start(database_url: &str, settings: &[(&str, &str)]) -> Result<Self> {
        let binary = parley_binary()?;
        let port = {
            let probe = TcpListener::bind("127.0.0.1:0")?;
            probe.local_addr()?.port()
        };
        let child = Command::new(&binary)
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("PARLEY_LISTEN", format!("127.0.0.1:{port}"))
            .env("PARLEY_METRICS", "true")
            .env(
                "RUST_LOG",
                std::env::var("PARLEY_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .env("PARLEY_WS_MAX_PER_ADDRESS", "1000000")
            .env("PARLEY_LOGIN_RATE_ACCOUNT", "off")
            .env("PARLEY_LOGIN_RATE_ADDRESS", "off")
            .env("PARLEY_REGISTER_RATE_ADDRESS", "off")
            .envs(settings.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let instance = Self {
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .pool_max_idle_per_host(64)
                .build()?,
            child,
        };
        instance.wait_ready().await?;
        Ok(instance)
    }

    async fn wait_ready(&self) -> Result<()> {
        wait_healthy(&self.http, &self.base).await
    }

    /// The process id, to read its memory.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Kills the process at once (SIGKILL): no shutdown, no goodbyes.
    pub async fn kill(&mut self) -> Result<()> {
        self.child.start_kill()?;
        self.child.wait().await?;
        Ok(())
    }

    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.base)
    }

    pub fn ws_url(&self) -> String {
        format!("{}/graphql/ws", self.base.replacen("http", "ws", 1))
    }

    /// POSTs a GraphQL request; the whole JSON response.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Result<Value> {
        let mut request = self
            .http
            .post(self.graphql_url())
            .json(&json!({"query": query, "variables": variables}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Ok(request.send().await?.json().await?)
    }

    /// `data`, failing on any error.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Result<Value> {
        let response = self.gql(Some(token), query, variables).await?;
        if response.get("errors").is_some() {
            bail!("unexpected errors for {query}: {response:#}");
        }
        Ok(response["data"].clone())
    }

    pub async fn register(&self, username: &str) -> Result<TestUser> {
        let response = self
            .gql(
                None,
                "mutation($u: String!) { register(input: {username: $u, password: \"correct horse\"}) { token user { id } } }",
                json!({"u": username}),
            )
            .await?;
        TestUser::registered(username, &response)
    }

    /// A signed-in graphql-transport-ws socket.
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
}

/// Waits up to 30 s for a server's `/health` to answer 200.
pub async fn wait_healthy(http: &reqwest::Client, base: &str) -> Result<()> {
    for _ in 0..300 {
        if let Ok(response) = http.get(format!("{base}/health")).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the server at {base} did not become ready")
}
