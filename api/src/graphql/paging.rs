//! What a page of a connection costs a query.

/// The cost a connection field adds to a query: its page size times what
/// each node costs, so that nested lists cannot multiply without bound.
pub fn page_cost(first: Option<i64>, last: Option<i64>, child: usize) -> usize {
    let size = first
        .or(last)
        .unwrap_or(service::validate::PAGE_DEFAULT as i64)
        .clamp(1, service::validate::PAGE_MAX as i64) as usize;
    size.saturating_mul(child).saturating_add(1)
}
