//! The search operation; all the SQL of search lives in this file.
//!
//! A search runs in two steps. The first finds the page's message ids,
//! reading the index newest first so that a page of a common word stops
//! after a few rows instead of collecting every match; the second loads
//! those messages and their snippets, so snippets are built for one page
//! only.
//!
//! On SQLite, a prefix term without a prefix index of its length (FTS5
//! has them for 2, 3 and 4 characters) is answered by merging the doclists
//! of every word it starts into one list, which costs time in proportion
//! to how common those words are. Each FTS5 query pays that once, but a
//! `rowid IN (...)` constraint makes SQLite run the query once per id.
//! So a newest-first page builds its snippets in the same statement that
//! finds it, and the snippets of a relevance page are read over the
//! page's rowid range, with `+rowid IN (...)` filtering rows instead of
//! driving the scan.

use std::collections::HashMap;

use entity::message;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryResult, Statement,
    TransactionTrait, Value,
};

use super::{
    snippet::{self, Snippet},
    terms,
};
use crate::{
    Service, Viewer,
    accounts::hides_blocked_sql,
    error::{Error, Result},
    page::Page,
    validate::{self, SEARCH_PAGE_DEFAULT, SEARCH_PAGE_MAX},
};

/// `RELEVANCE` ranks the newest this many matches: ranking every match of
/// a common word would read all of them, and in a chat the best of the
/// recent matches is what people look for.
pub const RANK_WINDOW: u64 = 1000;
/// Words of context a snippet aims for.
const SNIPPET_WORDS: u32 = 24;

/// How hits are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SearchOrder {
    /// Newest message first.
    #[default]
    Newest,
    /// Best match first (FTS5 `bm25`, PostgreSQL `ts_rank`), among the
    /// newest [`RANK_WINDOW`] matches; ties newest first.
    Relevance,
}

/// Where a page starts: each order has its own kind of cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchCursor {
    /// `Newest`: hits older than this message id.
    Before(i64),
    /// `Relevance`: hits after this many.
    Offset(u64),
}

#[derive(Clone, Debug, Default)]
pub struct SearchInput {
    pub query: String,
    /// Only this conversation (which the viewer must be in).
    pub conversation_id: Option<i64>,
    pub order: SearchOrder,
    pub first: Option<i64>,
    pub after: Option<SearchCursor>,
}

/// One message that matched.
#[derive(Clone, Debug)]
pub struct Hit {
    pub message: message::Model,
    pub snippet: Snippet,
    /// The cursor of the page that starts after this hit.
    pub cursor: SearchCursor,
}

impl Service {
    /// Messages of the viewer's conversations that contain every word of
    /// `query`, each word also matching longer words it starts
    /// (`deplo` finds "deploy"), ignoring case and accents. System notices
    /// and conversations that are deleted are left out. A conversation the
    /// viewer is not in is `NotFound`, as if it did not exist.
    #[tracing::instrument(skip_all, fields(user_id = viewer.user_id, conversation_id = input.conversation_id))]
    pub async fn search_messages(&self, viewer: &Viewer, input: SearchInput) -> Result<Page<Hit>> {
        let terms = terms::parse(&input.query)?;
        let limit = page_size(input.first)?;
        let offset = match (input.order, input.after) {
            (_, None) => 0,
            (SearchOrder::Relevance, Some(SearchCursor::Offset(n))) => n,
            (SearchOrder::Newest, Some(SearchCursor::Before(_))) => 0,
            _ => return Err(Error::invalid("after", "is a cursor of another order")),
        };
        let before = match input.after {
            Some(SearchCursor::Before(id)) => Some(id),
            _ => None,
        };
        if let Some(id) = input.conversation_id {
            self.conversation(viewer, id).await?;
        }
        let backend = self.db().get_database_backend();
        let matcher = match backend {
            DbBackend::Postgres => terms::tsquery(&terms),
            _ => terms::fts5_match(&terms),
        };
        // One snapshot for both steps, so the page's messages are the ones
        // its ids were found in.
        let txn = self.db().begin().await?;
        if backend == DbBackend::Postgres {
            // Statements are prepared and cached per connection; after a
            // few runs PostgreSQL may settle on one generic plan, blind to
            // whether the terms are rare (read the GIN index) or common
            // (walk messages newest first and stop at the page). Planning
            // each search costs well under a millisecond.
            txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
                .await?;
        }
        let found = if input.order == SearchOrder::Relevance && offset >= RANK_WINDOW {
            Vec::new()
        } else {
            let statement = candidates(
                backend,
                &matcher,
                viewer.user_id,
                input.conversation_id,
                input.order,
                before,
                offset,
                limit + 1,
            );
            txn.query_all_raw(statement)
                .await?
                .iter()
                .map(candidate_row)
                .collect::<Result<Vec<_>>>()?
        };
        // Relevance candidates end at the window, so the extra row also
        // says whether the window has more.
        let has_next_page = found.len() as u64 > limit;
        let found = &found[..found.len().min(limit as usize)];
        let mut hits = load_hits(&txn, backend, &matcher, found).await?;
        txn.commit().await?;
        let items = found
            .iter()
            .zip(0..)
            .filter_map(|((id, _), i)| {
                let (message, snippet) = hits.remove(id)?;
                let cursor = match input.order {
                    SearchOrder::Newest => SearchCursor::Before(*id),
                    SearchOrder::Relevance => SearchCursor::Offset(offset + i + 1),
                };
                Some(Hit {
                    message,
                    snippet,
                    cursor,
                })
            })
            .collect();
        Ok(Page {
            items,
            has_previous_page: input.after.is_some(),
            has_next_page,
        })
    }
}

/// The messages and snippets of one page of ids, with the snippets the
/// candidates came with.
async fn load_hits(
    db: &impl ConnectionTrait,
    backend: DbBackend,
    matcher: &str,
    found: &[(i64, Option<Snippet>)],
) -> Result<HashMap<i64, (message::Model, Snippet)>> {
    if found.is_empty() {
        return Ok(HashMap::new());
    }
    let messages = message::Entity::find()
        .filter(message::Column::Id.is_in(found.iter().map(|(id, _)| *id)))
        .all(db)
        .await?;
    let mut snippets: HashMap<i64, Snippet> = found
        .iter()
        .filter_map(|(id, snippet)| Some((*id, snippet.clone()?)))
        .collect();
    let missing: Vec<i64> = found
        .iter()
        .filter(|(_, snippet)| snippet.is_none())
        .map(|(id, _)| *id)
        .collect();
    if !missing.is_empty() {
        for row in db
            .query_all_raw(snippets_of(backend, matcher, &missing))
            .await?
        {
            let (id, snippet) = snippet_row(&row)?;
            snippets.insert(id, snippet);
        }
    }
    Ok(messages
        .into_iter()
        .map(|m| {
            // In one snapshot every id has its snippet row; were one
            // missing, the body shows unmarked rather than failing.
            let mut snippet = snippets.get(&m.id).cloned().unwrap_or_else(|| Snippet {
                text: m.body.clone(),
                highlights: Vec::new(),
            });
            if backend == DbBackend::Postgres {
                snippet.mark_cuts(&m.body);
            }
            (m.id, (m, snippet))
        })
        .collect())
}

fn page_size(first: Option<i64>) -> Result<u64> {
    first.map_or(Ok(SEARCH_PAGE_DEFAULT), |n| {
        validate::page_size("first", n, SEARCH_PAGE_MAX)
    })
}

fn snippet_row(row: &QueryResult) -> Result<(i64, Snippet)> {
    let id = row.try_get_by_index::<i64>(0)?;
    let marked = row.try_get_by_index::<String>(1)?;
    Ok((id, Snippet::from_marked(&marked)))
}

/// A candidate's id, and its snippet when the candidates query built it.
fn candidate_row(row: &QueryResult) -> Result<(i64, Option<Snippet>)> {
    let id = row.try_get_by_index::<i64>(0)?;
    let marked = row.try_get_by_index::<Option<String>>(1)?;
    Ok((id, marked.as_deref().map(Snippet::from_marked)))
}

/// The viewer's current memberships in conversations that are not deleted.
/// Both engines evaluate it once per query, as a set the scan probes.
const VISIBLE_CONVERSATIONS: &str = "SELECT cm.conversation_id FROM conversation_members cm \
     JOIN conversations c ON c.id = cm.conversation_id \
     WHERE cm.user_id = {user} AND c.deleted_at IS NULL";

/// Messages from before the viewer's latest join into a group whose
/// history is visible since joining: never found. Almost every membership
/// has shared history, so this is a probe of the primary key per hit.
const HIDDEN_HISTORY: &str = "NOT EXISTS (SELECT 1 FROM conversation_members hm \
     JOIN conversations hc ON hc.id = hm.conversation_id \
     WHERE hm.conversation_id = m.conversation_id AND hm.user_id = {user} \
     AND hc.history_visibility = 'since_joined' AND m.seq < hm.visible_from_seq)";

/// The ids of one page of hits, in order.
#[allow(clippy::too_many_arguments)]
fn candidates(
    backend: DbBackend,
    matcher: &str,
    user_id: i64,
    conversation_id: Option<i64>,
    order: SearchOrder,
    before: Option<i64>,
    offset: u64,
    limit: u64,
) -> Statement {
    let mut sql = SqlBuilder::new(backend);
    let (id, from, matches) = match backend {
        // CROSS JOIN keeps the FTS5 table as the outer loop: it is read
        // newest first and the scan stops at the limit.
        DbBackend::Postgres => (
            "m.id",
            "messages m",
            format!("m.search @@ to_tsquery('parley', {})", sql.bind(matcher)),
        ),
        _ => (
            "messages_fts.rowid",
            "messages_fts CROSS JOIN messages m ON m.id = messages_fts.rowid",
            format!("messages_fts MATCH {}", sql.bind(matcher)),
        ),
    };
    let visible = VISIBLE_CONVERSATIONS.replace("{user}", &sql.bind(user_id));
    let hidden = HIDDEN_HISTORY.replace("{user}", &sql.bind(user_id));
    // Messages of people the viewer blocks are not theirs to find.
    let unblocked = hides_blocked_sql(&sql.bind(user_id));
    let mut filter = format!(
        "{matches} AND m.kind <> 'system' AND m.deleted_at IS NULL AND m.conversation_id IN ({visible}) \
         AND {hidden} AND {unblocked}"
    );
    if let Some(conversation_id) = conversation_id {
        filter += &format!(" AND m.conversation_id = {}", sql.bind(conversation_id));
    }
    if let Some(before) = before {
        filter += &format!(" AND {id} < {}", sql.bind(before));
    }
    let text = match order {
        SearchOrder::Newest => {
            // SQLite computes the result columns of the rows it returns
            // only, so the snippets cost one page.
            let snippet = match backend {
                DbBackend::Postgres => "NULL".to_owned(),
                _ => fts5_snippet(&mut sql),
            };
            format!(
                "SELECT {id}, {snippet} FROM {from} WHERE {filter} ORDER BY {id} DESC LIMIT {}",
                sql.bind(limit as i64)
            )
        }
        SearchOrder::Relevance => {
            // bm25 is lower for better matches; ts_rank higher.
            let (score, direction) = match backend {
                DbBackend::Postgres => (
                    format!(
                        "ts_rank(m.search, to_tsquery('parley', {}))",
                        sql.bind(matcher)
                    ),
                    "DESC",
                ),
                _ => ("bm25(messages_fts)".to_owned(), "ASC"),
            };
            format!(
                "SELECT id, NULL FROM (SELECT {id} AS id, {score} AS score FROM {from} WHERE {filter} \
                 ORDER BY {id} DESC LIMIT {window}) ranked \
                 ORDER BY score {direction}, id DESC LIMIT {limit} OFFSET {offset}",
                window = sql.bind(RANK_WINDOW as i64),
                limit = sql.bind(limit as i64),
                offset = sql.bind(offset as i64),
            )
        }
    };
    sql.statement(text)
}

/// The FTS5 `snippet()` call, for a query over `messages_fts`.
fn fts5_snippet(sql: &mut SqlBuilder) -> String {
    format!(
        "snippet(messages_fts, 0, {}, {}, {}, {})",
        sql.bind(snippet::START.to_string()),
        sql.bind(snippet::STOP.to_string()),
        sql.bind(snippet::ELLIPSIS),
        sql.bind(SNIPPET_WORDS as i64),
    )
}

/// `(id, marked snippet)` for each of `ids` that still matches.
fn snippets_of(backend: DbBackend, matcher: &str, ids: &[i64]) -> Statement {
    let mut sql = SqlBuilder::new(backend);
    let text = match backend {
        DbBackend::Postgres => {
            // A private-use character is an ordinary option value; the
            // double quotes keep the delimiter's spaces.
            let options = format!(
                "StartSel={}, StopSel={}, MaxWords={SNIPPET_WORDS}, MinWords={}, ShortWord=0",
                snippet::START,
                snippet::STOP,
                SNIPPET_WORDS / 2
            );
            // ts_headline drops what its parser takes for HTML tags, so
            // `<` is swapped for a private-use character around it.
            let guard = sql.bind(snippet::TAG_GUARD.to_string());
            format!(
                "SELECT id, replace(ts_headline('parley', replace(body, '<', {guard}), \
                 to_tsquery('parley', {}), {}), {guard}, '<') \
                 FROM messages WHERE id IN ({})",
                sql.bind(matcher),
                sql.bind(options),
                sql.bind_all(ids),
            )
        }
        _ => {
            // The range drives the scan: one evaluation of the match (see
            // the module's notes); the unary `+` keeps the id list a filter.
            let (low, high) = ids.iter().fold((i64::MAX, i64::MIN), |(lo, hi), id| {
                (lo.min(*id), hi.max(*id))
            });
            let snippet = fts5_snippet(&mut sql);
            format!(
                "SELECT rowid, {snippet} FROM messages_fts \
                 WHERE messages_fts MATCH {} AND rowid BETWEEN {} AND {} AND +rowid IN ({})",
                sql.bind(matcher),
                sql.bind(low),
                sql.bind(high),
                sql.bind_all(ids),
            )
        }
    };
    sql.statement(text)
}

/// Numbered placeholders for the backend, with their values: every value
/// that comes from a request is bound, never spliced into the SQL.
struct SqlBuilder {
    backend: DbBackend,
    values: Vec<Value>,
}

impl SqlBuilder {
    fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            values: Vec::new(),
        }
    }

    fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => format!("?{}", self.values.len()),
        }
    }

    fn bind_all(&mut self, ids: &[i64]) -> String {
        ids.iter()
            .map(|id| self.bind(*id))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn statement(self, sql: String) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, self.values)
    }
}
