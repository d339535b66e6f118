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
