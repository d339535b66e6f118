//! Every operation of an admin-key request goes to the audit log: one
//! schema extension sees each top-level field the host app runs, with the
//! ids it was given, and records it after it ran (with whether it
//! succeeded). Being here, no new host-app operation can forget it.

use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::{
    ServerResult, Value, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextResolve, ResolveInfo,
    },
    parser::types::ExecutableDocument,
};
use service::Service;

use crate::graphql::context::Auth;

/// The factory the schema is built with.
pub struct AuditHostApp;

impl ExtensionFactory for AuditHostApp {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AuditRequest::default())
    }
}

/// One request's extension: remembers the variables to name targets.
#[derive(Default)]
struct AuditRequest {
    variables: Mutex<Option<Variables>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for AuditRequest {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        *self
            .variables
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(variables.clone());
        next.run(ctx, query, variables).await
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let host_app = matches!(ctx.data_opt::<Auth>(), Some(Auth::HostApp));
        if !host_app
            || info.path_node.parent.is_some()
            || info.is_for_introspection
            || info.name.starts_with("__")
        {
            return next.run(ctx, info).await;
        }
        let action = info.name.to_owned();
        let target = self.target(info.field);
        let result = next.run(ctx, info).await;
        if let Some(service) = ctx.data_opt::<Service>()
            && let Err(err) = service.audit(&action, target, result.is_ok()).await
        {
            tracing::error!(%err, action, "could not write the audit log");
        }
        result
    }
}

impl AuditRequest {
    /// `name=value` for every id argument (`id`, `...Id`, `...Ids`, also
    /// inside `input`), with variables filled in.
    fn target(&self, field: &async_graphql::parser::types::Field) -> Option<String> {
        let variables = self
            .variables
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_default();
        let mut parts = Vec::new();
        for (name, value) in &field.arguments {
            let Ok(value) = value
                .node
                .clone()
                .into_const_with(|var| variables.get(&var).cloned().ok_or(()))
            else {
                continue;
            };
            collect_ids(name.node.as_str(), &value, &mut parts);
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

fn is_id_name(name: &str) -> bool {
    name == "id" || name.ends_with("Id") || name.ends_with("Ids")
}

fn collect_ids(name: &str, value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (key, inner) in fields {
                if is_id_name(key.as_str()) {
                    collect_ids(key.as_str(), inner, out);
                }
            }
        }
        Value::String(text) if is_id_name(name) => out.push(format!("{name}={text}")),
        Value::List(items) if is_id_name(name) => {
            let ids: Vec<&str> = items
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect();
            out.push(format!("{name}={}", ids.join(",")));
        }
        _ => {}
    }
}
