//! The schema's own scalars, described for clients (async-graphql's
//! built-in ones describe the Rust type) and carrying `@specifiedBy`.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{DateTime, Utc};

/// A `DateTime` of the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub DateTime<Utc>);

/// A point in time: an RFC 3339 date-time string in UTC with up to
/// microseconds, such as `2026-12-04T19:46:05.090101+00:00`. Inputs accept
/// any RFC 3339 date-time with an offset (`Z` included); Parley stores
/// them in UTC.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
)]
impl ScalarType for Timestamp {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => DateTime::parse_from_rfc3339(text)
                .map(|at| Self(at.with_timezone(&Utc)))
                .map_err(|_| {
                    InputValueError::custom(
                        "expected an RFC 3339 date-time with an offset, like 2024-05-01T09:30:00Z",
                    )
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339())
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(at: DateTime<Utc>) -> Self {
        Self(at)
    }
}

/// A `JSON` of the schema.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonValue(pub serde_json::Value);

/// Any JSON value: an object, array, string, number, boolean or null.
#[Scalar(
    name = "JSON",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc8259"
)]
impl ScalarType for JsonValue {
    fn parse(value: Value) -> InputValueResult<Self> {
        value
            .into_json()
            .map(Self)
            .map_err(|_| InputValueError::custom("expected a JSON value"))
    }

    fn to_value(&self) -> Value {
        Value::from_json(self.0.clone()).unwrap_or(Value::Null)
    }
}
