//! What the transports need to know about a request before running it,
//! and how they tell request errors from execution errors.
//!
//! GraphQL-over-HTTP and graphql-transport-ws both treat a request that
//! cannot run (it does not parse, fails validation, or names no operation)
//! differently from one that ran and produced errors. async-graphql reports
//! both the same way, so parse and operation errors are found here before
//! execution, and validation errors are tagged by [`ValidationCodes`].

use std::sync::Arc;

use async_graphql::{
    Request, Response, ServerError, ServerResult, ValidationResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextSubscribe,
        NextValidation,
    },
    futures_util::stream::BoxStream,
    parser::types::{DocumentOperations, ExecutableDocument, OperationType},
};
use futures_util::StreamExt;

use super::error::code;

/// Why a request cannot run.
#[derive(Debug)]
pub struct RequestError {
    pub code: &'static str,
    pub errors: Vec<ServerError>,
}

impl RequestError {
    fn new(code: &'static str, mut error: ServerError) -> Self {
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
        Self {
            code,
            errors: vec![error],
        }
    }

    /// An error with this `extensions.code`.
    pub fn with_code(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, ServerError::new(message, None))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(code::BAD_REQUEST, ServerError::new(message, None))
    }

    pub fn into_response(self) -> Response {
        Response::from_errors(self.errors)
    }
}

/// The selected operation's type and name, or why there is none.
pub fn inspect(request: &mut Request) -> Result<(OperationType, Option<String>), RequestError> {
    let name = request.operation_name.clone();
    let document = request
        .parsed_query()
        .map_err(|err| RequestError::new(code::GRAPHQL_PARSE_FAILED, err))?;
    let operation = match (&document.operations, &name) {
        (DocumentOperations::Single(op), None) => Some((op.node.ty, None)),
        (DocumentOperations::Multiple(ops), Some(name)) => ops
            .get(name.as_str())
            .map(|op| (op.node.ty, Some(name.clone()))),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops
            .iter()
            .next()
            .map(|(name, op)| (op.node.ty, Some(name.to_string()))),
        (DocumentOperations::Multiple(_), None) => {
            return Err(RequestError::bad_request(
                "the document has several operations: name one with `operationName`",
            ));
        }
        (DocumentOperations::Single(_), Some(_)) => None,
    };
    operation.ok_or_else(|| {
        RequestError::bad_request(format!(
            "unknown operation named \"{}\"",
            name.unwrap_or_default()
        ))
    })
}

/// True when the response is a request error: it has no data because the
/// request never ran.
pub fn is_request_error(response: &Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .is_some_and(|c| {
                    *c == async_graphql::Value::from(code::GRAPHQL_VALIDATION_FAILED)
                        || *c == async_graphql::Value::from(code::GRAPHQL_PARSE_FAILED)
                        || *c == async_graphql::Value::from(code::BAD_REQUEST)
                })
        })
}

/// Tags parse errors (including the recursion limit, checked while
/// parsing) with `GRAPHQL_PARSE_FAILED`, validation errors (including
/// the depth and complexity limits) with `GRAPHQL_VALIDATION_FAILED`, and
/// errors of execution that have no code with `BAD_USER_INPUT`: resolvers'
/// errors all carry one, so those are argument values async-graphql could
/// not read (`until: "garbage"` for a DateTime). Codes already set stay.
pub struct ValidationCodes;

fn tag(mut error: ServerError, code: &'static str) -> ServerError {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
    error
}

fn tag_response(mut response: Response) -> Response {
    response.errors = std::mem::take(&mut response.errors)
        .into_iter()
        .map(|e| tag(e, code::BAD_USER_INPUT))
        .collect();
    response
}

impl ExtensionFactory for ValidationCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ValidationCodes)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ValidationCodes {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables)
            .await
            .map_err(|e| tag(e, code::GRAPHQL_PARSE_FAILED))
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        tag_response(next.run(ctx, operation_name).await)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream).map(tag_response).boxed()
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| tag(e, code::GRAPHQL_VALIDATION_FAILED))
                .collect()
        })
    }
}
