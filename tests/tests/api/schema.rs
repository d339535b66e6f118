use std::path::Path;

#[test]
fn schema_graphql_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    let committed = std::fs::read_to_string(&path).expect("schema.graphql exists");
    let printed = api::graphql::sdl();
    assert!(
        committed == printed,
        "schema.graphql is out of date: run `cargo run -- print-schema > schema.graphql`"
    );
}

/// The fields of each `implements Event` type, as `name: Type` lines.
fn event_types(sdl: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut types = Vec::new();
    let mut lines = sdl.lines();
    while let Some(line) = lines.next() {
        let Some(name) = line
            .strip_prefix("type ")
            .and_then(|rest| rest.strip_suffix(" implements Event {"))
        else {
            continue;
        };
        let mut fields = Vec::new();
        let mut in_doc = false;
        for line in lines.by_ref() {
            let line = line.trim();
            if line == "}" {
                break;
            }
            if line == "\"\"\"" {
                in_doc = !in_doc;
                continue;
            }
            if in_doc || line.is_empty() {
                continue;
            }
            if let Some((field, ty)) = line.split_once(": ") {
                fields.push((field.to_owned(), ty.to_owned()));
            }
        }
        types.push((name.to_owned(), fields));
    }
    types
}

/// graphql-codegen and relay-compiler refuse a selection where two event
/// types' fields of one name differ in type (`messageId: ID` and `ID!`),
/// so an `events` query selecting every type's fields must be valid.
#[test]
fn event_fields_of_one_name_have_one_type() {
    let sdl = api::graphql::sdl();
    let types = event_types(&sdl);
    assert!(types.len() >= 18, "{types:?}");
    let mut seen: std::collections::HashMap<String, (String, String)> = Default::default();
    for (name, fields) in &types {
        for (field, ty) in fields {
            if let Some((other, other_ty)) = seen.get(field) {
                assert_eq!(ty, other_ty, "{name}.{field} and {other}.{field}");
            } else {
                seen.insert(field.clone(), (name.clone(), ty.clone()));
            }
        }
    }
    // What the stream guarantees is what the schema says.
    for (name, fields) in &types {
        let ty = |f: &str| fields.iter().find(|(n, _)| n == f).map(|(_, t)| t.as_str());
        if let Some(message) = ty("message") {
            assert_eq!(message, "Message!", "{name}.message");
        }
        // One type each for the interface's fields, so selecting them on
        // the interface and in a fragment merges.
        assert_eq!(ty("cursor"), Some("String"), "{name}.cursor");
        assert_eq!(ty("conversationId"), Some("ID"), "{name}.conversationId");
    }
}
