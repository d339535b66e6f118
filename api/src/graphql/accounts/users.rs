//! Accounts and people: `me`, `user`, `users`, `register`, `login`, `logout`.

use async_graphql::{
    Context, ID, InputObject, Object,
    connection::{Connection, Edge},
};
use service::{accounts::Register, page::PageArgs};

use crate::graphql::{
    accounts::{AuthPayload, User},
    context::{client_addr, service, viewer},
    error::ApiResult,
    ids::{self, Kind, cursor},
    paging::page_cost,
};

#[derive(InputObject)]
pub struct RegisterInput {
    #[doc = concat!(::service::limit!(USERNAME_MIN), " to ", ::service::limit!(USERNAME_MAX), " characters: letters, digits, `_`, `.` and `-`. Unique")]
    /// without regard to case.
    pub username: String,
    #[doc = concat!(::service::limit!(PASSWORD_MIN), " to ", ::service::limit!(PASSWORD_MAX), " characters.")]
    pub password: String,
    /// Shown to others; defaults to the username.
    pub display_name: Option<String>,
}

#[derive(InputObject)]
pub struct LoginInput {
    pub username: String,
    pub password: String,
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The signed-in user.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<User> {
        let viewer = viewer(ctx)?;
        Ok(User(service(ctx)?.me(&viewer).await?))
    }

    async fn user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<User>> {
        let viewer = viewer(ctx)?;
        let id = ids::decode(Kind::User, &id, "id")?;
        Ok(service(ctx)?.user(&viewer, id).await?.map(User))
    }

    /// People to chat with, by username. `search` matches the start of a
    /// username or any part of a display name, ignoring case.
    #[graphql(complexity = "page_cost(first, None, child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        first: Option<i64>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, User>> {
        let viewer = viewer(ctx)?;
        let after = after
            .map(|c| cursor::decode(&c, "after", |s| s.strip_prefix("u:").map(str::to_owned)))
            .transpose()?;
        let page = service(ctx)?
            .search_users(&viewer, search.as_deref(), PageArgs::forward(first, after))
            .await?;
        let mut connection = Connection::new(page.has_previous_page, page.has_next_page);
        connection.edges.extend(
            page.items
                .into_iter()
                .map(|u| Edge::new(cursor::encode(&format!("u:{}", u.username_key)), User(u))),
        );
        Ok(connection)
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates an account and signs it in.
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> ApiResult<AuthPayload> {
        let signed_in = service(ctx)?
            .register(
                client_addr(ctx),
                Register {
                    username: input.username,
                    password: input.password,
                    display_name: input.display_name,
                },
            )
            .await?;
        Ok(AuthPayload {
            token: signed_in.token,
            expires_at: signed_in.expires_at.into(),
            user: signed_in.user,
        })
    }

    /// A new session for an existing account. Unknown usernames and wrong
    /// passwords get the same `UNAUTHENTICATED` error.
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> ApiResult<AuthPayload> {
        let signed_in = service(ctx)?
            .login(client_addr(ctx), &input.username, input.password)
            .await?;
        Ok(AuthPayload {
            token: signed_in.token,
            expires_at: signed_in.expires_at.into(),
            user: signed_in.user,
        })
    }

    /// Revokes the token this request was made with. `false` when there is
    /// nothing to revoke: a host-app JWT has no session and stays valid
    /// until its `exp`.
    async fn logout(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let viewer = viewer(ctx)?;
        Ok(service(ctx)?.logout(&viewer).await?)
    }
}
