//! `searchMessages`: full-text search over the viewer's conversations.

use async_graphql::{
    Context, Enum, ID, Object, SimpleObject,
    connection::{Connection, Edge},
};
use service::messages::search::{self as search, SearchCursor, SearchInput};

use crate::graphql::{
    context::{service, viewer},
    error::ApiResult,
    ids::{self, Kind, cursor},
    messages::Message,
    paging::page_cost,
};

/// How search hits are ordered.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchOrder {
    /// Newest message first.
    #[default]
    Newest,
    /// Best match first, among the newest 1,000 matches; ties newest first.
    Relevance,
}

impl From<SearchOrder> for search::SearchOrder {
    fn from(order: SearchOrder) -> Self {
        match order {
            SearchOrder::Newest => search::SearchOrder::Newest,
            SearchOrder::Relevance => search::SearchOrder::Relevance,
        }
    }
}

pub struct SearchHit(search::Hit);

/// A message that matched, with the part of it that did.
#[Object]
impl SearchHit {
    async fn message(&self) -> Message {
        Message(self.0.message.clone(), None)
    }

    async fn snippet(&self) -> Snippet {
        Snippet(self.0.snippet.clone())
    }
}

pub struct Snippet(search::Snippet);

/// Part of a message around its matches, as plain text: render `text`
/// and emphasize each range of `highlights`. A long body is cut to about
/// 24 words around the matches (on SQLite with `…` where it was cut).
#[Object]
impl Snippet {
    async fn text(&self) -> &str {
        &self.0.text
    }

    /// The matched words, in order, not overlapping.
    async fn highlights(&self) -> Vec<TextRange> {
        self.0
            .highlights
            .iter()
            .map(|r| TextRange {
                start: r.start as i64,
                end: r.end as i64,
            })
            .collect()
    }
}

/// `[start, end)` in Unicode code points of the text (not UTF-16 units:
/// in JavaScript, index `Array.from(text)`).
#[derive(SimpleObject)]
pub struct TextRange {
    pub start: i64,
    pub end: i64,
}

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Messages of the viewer's conversations containing every word of
    #[doc = concat!("`query` (at most ", ::service::limit!(SEARCH_QUERY_MAX), " characters). Words match the start of words")]
    /// (`deplo` finds "deploy"; one-letter words match whole words only),
    /// ignoring case and accents (`cafe` finds "Café"). Punctuation and
    /// operators are ignored: the query is only words. System notices are
    #[doc = concat!("not searched. `first`: ", ::service::limit!(SEARCH_PAGE_DEFAULT), " by default, at most ", ::service::limit!(SEARCH_PAGE_MAX), ".")]
    #[graphql(
        complexity = "page_cost(Some(first.unwrap_or(service::validate::SEARCH_PAGE_DEFAULT as i64)), None, child_complexity)"
    )]
    async fn search_messages(
        &self,
        ctx: &Context<'_>,
        query: String,
        conversation_id: Option<ID>,
        // Nullable, so that a client may pass an unset variable.
        #[graphql(default_with = "Some(SearchOrder::Newest)")] order_by: Option<SearchOrder>,
        first: Option<i64>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, SearchHit>> {
        let viewer = viewer(ctx)?;
        let conversation_id = conversation_id
            .map(|id| ids::decode(Kind::Conversation, &id, "conversationId"))
            .transpose()?;
        let after = after
            .map(|c| cursor::decode(&c, "after", decode_cursor))
            .transpose()?;
        let page = service(ctx)?
            .search_messages(
                &viewer,
                SearchInput {
                    query,
                    conversation_id,
                    order: order_by.unwrap_or_default().into(),
                    first,
                    after,
                },
            )
            .await?;
        let mut connection = Connection::new(page.has_previous_page, page.has_next_page);
        connection.edges.extend(
            page.items
                .into_iter()
                .map(|hit| Edge::new(cursor::encode(&encode_cursor(hit.cursor)), SearchHit(hit))),
        );
        Ok(connection)
    }
}

fn encode_cursor(cursor: SearchCursor) -> String {
    match cursor {
        SearchCursor::Before(id) => format!("n:{id}"),
        SearchCursor::Offset(n) => format!("r:{n}"),
    }
}

fn decode_cursor(text: &str) -> Option<SearchCursor> {
    match text.split_once(':')? {
        ("n", id) => id.parse().ok().map(SearchCursor::Before),
        ("r", n) => n.parse().ok().map(SearchCursor::Offset),
        _ => None,
    }
}
