//! What the host app does with its endpoints. Only the admin key may:
//! an endpoint sees every conversation's events.

use chrono::{DateTime, Utc};
use entity::{event, webhook_endpoint};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::{
    EventType,
    kinds::{join_list, parse_list},
    outbound::check_url,
};
use crate::{
    Actor, Service,
    accounts::{host_app_only, new_token},
    error::{Error, Result},
    events::high_water,
    time::now,
    validate,
};

/// An endpoint as the host app sees it (never its secret).
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub id: i64,
    pub url: String,
    pub event_types: Vec<EventType>,
    pub only_offline: bool,
    /// The last event id delivered or skipped.
    pub cursor: i64,
    /// Failed attempts in a row at the next event.
    pub attempts: i32,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub paused_at: Option<DateTime<Utc>>,
    /// Events after the cursor of the log kinds its types come from (an
    /// upper bound: a conversation update counts, only a deletion is sent).
    pub backlog: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct NewEndpoint {
    pub url: String,
    pub event_types: Vec<EventType>,
    pub only_offline: bool,
    /// `None`: one is generated.
    pub secret: Option<String>,
}

#[derive(Default)]
pub struct UpdateEndpoint {
    pub url: Option<String>,
    pub event_types: Option<Vec<EventType>>,
    pub only_offline: Option<bool>,
    pub secret: Option<String>,
}

impl Service {
    fn checked_url(&self, raw: &str) -> Result<String> {
        let url = validate::http_url(raw, "url")?;
        check_url(&url, self.settings().webhooks.allow_private)?;
        Ok(url)
    }

    /// Registers an endpoint; it gets the events committed from now on.
    /// Returns it and its secret (shown this once).
    #[tracing::instrument(skip_all)]
    pub async fn create_webhook_endpoint(
        &self,
        actor: &Actor,
        input: NewEndpoint,
    ) -> Result<(Endpoint, String)> {
        host_app_only(actor)?;
        let url = self.checked_url(&input.url)?;
        let types = validate::webhook_event_types(input.event_types)?;
        let secret = match input.secret {
            Some(secret) => validate::webhook_secret(secret)?,
            None => format!("whsec_{}", new_token()?),
        };
        let txn = self.write().await?;
        let cursor = high_water(&*txn).await?.last_id;
        let at = now();
        let row = webhook_endpoint::ActiveModel {
            url: Set(url),
            secret: Set(secret.clone()),
            event_types: Set(join_list(&types)),
            only_offline: Set(input.only_offline),
            cursor: Set(cursor),
            attempts: Set(0),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        }
        .insert(&*txn)
        .await?;
        txn.commit().await?;
        self.webhooks.changed(&row);
        Ok((self.describe(row).await?, secret))
    }

    pub async fn webhook_endpoints(&self, actor: &Actor) -> Result<Vec<Endpoint>> {
        host_app_only(actor)?;
        let rows = webhook_endpoint::Entity::find()
            .order_by_asc(webhook_endpoint::Column::Id)
            .all(self.db())
            .await?;
        let mut endpoints = Vec::with_capacity(rows.len());
        for row in rows {
            endpoints.push(self.describe(row).await?);
        }
        Ok(endpoints)
    }

    async fn endpoint_row(&self, id: i64) -> Result<webhook_endpoint::Model> {
        webhook_endpoint::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("webhook endpoint"))
    }

    /// Changes what is given; a new URL or secret applies from the next
    /// attempt.
    #[tracing::instrument(skip(self, actor, input))]
    pub async fn update_webhook_endpoint(
        &self,
        actor: &Actor,
        id: i64,
        input: UpdateEndpoint,
    ) -> Result<Endpoint> {
        host_app_only(actor)?;
        let row = self.endpoint_row(id).await?;
        let mut active: webhook_endpoint::ActiveModel = row.into();
        if let Some(url) = input.url {
            active.url = Set(self.checked_url(&url)?);
        }
        if let Some(types) = input.event_types {
            active.event_types = Set(join_list(&validate::webhook_event_types(types)?));
        }
        if let Some(only) = input.only_offline {
            active.only_offline = Set(only);
        }
        if let Some(secret) = input.secret {
            active.secret = Set(validate::webhook_secret(secret)?);
        }
        active.updated_at = Set(now());
        let txn = self.write().await?;
        let row = active.update(&*txn).await?;
        txn.commit().await?;
        self.webhooks.changed(&row);
        self.describe(row).await
    }

    /// Removes the endpoint; a delivery in flight finishes, nothing after.
    #[tracing::instrument(skip(self, actor))]
    pub async fn delete_webhook_endpoint(&self, actor: &Actor, id: i64) -> Result<()> {
        host_app_only(actor)?;
        let txn = self.write().await?;
        let gone = webhook_endpoint::Entity::delete_by_id(id)
            .exec(&*txn)
            .await?;
        txn.commit().await?;
        if gone.rows_affected == 0 {
            return Err(Error::NotFound("webhook endpoint"));
        }
        Ok(())
    }

    /// Delivers to a paused endpoint again, from where it stopped, with
    /// a fresh count of attempts.
    #[tracing::instrument(skip(self, actor))]
    pub async fn resume_webhook_endpoint(&self, actor: &Actor, id: i64) -> Result<Endpoint> {
        host_app_only(actor)?;
        let row = self.endpoint_row(id).await?;
        let mut active: webhook_endpoint::ActiveModel = row.into();
        active.paused_at = Set(None);
        active.attempts = Set(0);
        active.updated_at = Set(now());
        let txn = self.write().await?;
        let row = active.update(&*txn).await?;
        txn.commit().await?;
        self.webhooks.changed(&row);
        self.describe(row).await
    }

    async fn describe(&self, row: webhook_endpoint::Model) -> Result<Endpoint> {
        let event_types = parse_list(&row.event_types);
        let kinds: Vec<event::Kind> = event_types
            .iter()
            .flat_map(|t| t.log_kinds().iter().copied())
            .collect();
        let backlog = event::Entity::find()
            .filter(event::Column::Id.gt(row.cursor))
            .filter(event::Column::Kind.is_in(kinds))
            .count(self.db())
            .await?;
        Ok(Endpoint {
            id: row.id,
            url: row.url,
            event_types,
            only_offline: row.only_offline,
            cursor: row.cursor,
            attempts: row.attempts,
            last_error: row.last_error,
            last_error_at: row.last_error_at,
            paused_at: row.paused_at,
            backlog,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}
