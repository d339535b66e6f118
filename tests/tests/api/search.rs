//! `searchMessages`: prefixes, case and accent folding, ordering, paging,
//! snippets, and that nobody finds what they may not read.

use anyhow::Result;
use parley_tests::{TestApp, TestUser, error_code, spawn_app};
use serde_json::{Value, json};

const SEARCH: &str = "query($q: String!, $c: ID, $o: SearchOrder, $first: Int, $after: String) {
    searchMessages(query: $q, conversationId: $c, orderBy: $o, first: $first, after: $after) {
        pageInfo { hasNextPage hasPreviousPage endCursor }
        nodes { message { id body kind } snippet { text highlights { start end } } }
    } }";
const CREATE: &str = "mutation($t: String, $m: [ID!]!) { createGroupConversation(input: {title: $t, memberIds: $m}) { id } }";

/// The raw response of a search.
async fn search_raw(app: &TestApp, user: &TestUser, vars: Value) -> Result<Value> {
    app.gql(Some(&user.token), SEARCH, vars).await
}

/// The connection a search returns; fails on errors.
async fn search_page(app: &TestApp, user: &TestUser, vars: Value) -> Result<Value> {
    Ok(app.ok(&user.token, SEARCH, vars).await?["searchMessages"].clone())
}

/// The bodies of the first page of hits for `query`.
async fn bodies(app: &TestApp, user: &TestUser, query: &str) -> Result<Vec<String>> {
    Ok(page_bodies(
        &search_page(app, user, json!({"q": query})).await?,
    ))
}

fn page_bodies(page: &Value) -> Vec<String> {
    page["nodes"]
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .map(|n| n["message"]["body"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn pair(app: &TestApp) -> Result<(TestUser, TestUser, String)> {
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let direct = app.open_direct(&ann, &ben).await?;
    Ok((ann, ben, direct))
}

#[tokio::test]
async fn prefixes_match_ignoring_case_and_accents() -> Result<()> {
    let app = spawn_app().await?;
    let (ann, ben, direct) = pair(&app).await?;
    app.send(&ann, &direct, "The deploy is done").await?;
    app.send(&ann, &direct, "Un Café au lait").await?;
    app.send(&ben, &direct, "cafe CREME please").await?;

    assert_eq!(bodies(&app, &ben, "deplo").await?, ["The deploy is done"]);
    assert_eq!(bodies(&app, &ben, "DEPLOY").await?, ["The deploy is done"]);
    let both = ["cafe CREME please", "Un Café au lait"];
    assert_eq!(bodies(&app, &ann, "cafe").await?, both);
    assert_eq!(bodies(&app, &ann, "CAFÉ").await?, both);
    assert_eq!(bodies(&app, &ann, "caf").await?, both);
    assert_eq!(bodies(&app, &ann, "crème").await?, ["cafe CREME please"]);
    // Prefixes, not substrings; one letter is a whole word.
    assert!(bodies(&app, &ann, "eploy").await?.is_empty());
    assert!(bodies(&app, &ann, "d").await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn every_word_must_match() -> Result<()> {
    let app = spawn_app().await?;
    let (ann, ben, direct) = pair(&app).await?;
    app.send(&ann, &direct, "deploy on friday").await?;
    app.send(&ann, &direct, "deploy on monday").await?;
    app.send(&ann, &direct, "friday drinks").await?;
    assert_eq!(bodies(&app, &ben, "depl fri").await?, ["deploy on friday"]);
    assert_eq!(
        bodies(&app, &ben, "fri, depl!").await?,
        ["deploy on friday"]
    );
    assert!(bodies(&app, &ben, "deploy tuesday").await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn newest_first_in_pages() -> Result<()> {
    let app = spawn_app().await?;
    let (ann, ben, direct) = pair(&app).await?;
    for i in 1..=5 {
        app.send(&ann, &direct, &format!("report {i}")).await?;
    }
    app.send(&ann, &direct, "unrelated").await?;
    let mut seen = Vec::new();
    let mut after = Value::Null;
    for expected_more in [true, true, false] {
        let page = search_page(
            &app,
            &ben,
            json!({"q": "report", "first": 2, "after": after}),
        )
        .await?;
        assert_eq!(page["pageInfo"]["hasNextPage"], expected_more, "{page}");
        assert_eq!(page["pageInfo"]["hasPreviousPage"], !after.is_null());
        seen.extend(page_bodies(&page));
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(
        seen,
        ["report 5", "report 4", "report 3", "report 2", "report 1"]
    );
    Ok(())
}

#[tokio::test]
async fn relevance_puts_the_best_match_first() -> Result<()> {
    let app = spawn_app().await?;
    let (ann, ben, direct) = pair(&app).await?;
    app.send(&ann, &direct, "banana banana banana").await?;
    app.send(
        &ann,
        &direct,
        "we talked about many things today, the weather, trains, and a banana",
    )
    .await?;
    app.send(&ann, &direct, "apple").await?;

    let newest = search_page(&app, &ben, json!({"q": "banana"})).await?;
    assert_eq!(
        page_bodies(&newest)[0],
        "we talked about many things today, the weather, trains, and a banana"
    );
    let first = search_page(
        &app,
        &ben,
        json!({"q": "banana", "o": "RELEVANCE", "first": 1}),
    )
    .await?;
    assert_eq!(page_bodies(&first), ["banana banana banana"]);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let second = search_page(
        &app,
        &ben,
        json!({"q": "banana", "o": "RELEVANCE", "first": 1, "after": first["pageInfo"]["endCursor"]}),
    )
    .await?;
    assert_eq!(
        page_bodies(&second),
        ["we talked about many things today, the weather, trains, and a banana"]
    );
    assert_eq!(second["pageInfo"]["hasNextPage"], false);

    // A cursor of one order is no cursor of the other.
    let mixed = search_raw(
        &app,
        &ben,
        json!({"q": "banana", "after": first["pageInfo"]["endCursor"]}),
    )
    .await?;
    assert_eq!(error_code(&mixed), "BAD_USER_INPUT");
    assert_eq!(mixed["errors"][0]["extensions"]["field"], "after");
    Ok(())
}

/// A relevance page's snippets are read over the page's id range (see
/// `service/src/search.rs`); a match inside that range but not on the page
/// must not slip in, and every hit keeps its own highlights.
#[tokio::test]
async fn relevance_pages_carry_their_own_snippets() -> Result<()> {
    let app = spawn_app().await?;
    let (ann, ben, direct) = pair(&app).await?;
    app.send(&ann, &direct, "kiwi kiwi kiwi").await?;
    app.send(
        &ann,
        &direct,
        "a long message about the weather and the trains that names a kiwi once",
    )
    .await?;
    app.send(&ann, &direct, "kiwis ripen").await?;

    let page = search_page(
        &app,
        &ben,
        json!({"q": "kiw", "o": "RELEVANCE", "first": 2}),
    )
    .await?;
    assert_eq!(page_bodies(&page), ["kiwi kiwi kiwi", "kiwis ripen"]);
    let highlights: Vec<&Value> = page["nodes"]
        .as_array()
        .map(|nodes| nodes.iter().map(|n| &n["snippet"]["highlights"]).collect())
        .unwrap_or_default();
    assert_eq!(
        highlights,
        [
            &json!([{"start": 0, "end": 4}, {"start": 5, "end": 9}, {"start": 10, "end": 14}]),
            &json!([{"start": 0, "end": 5}]),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn snippets_are_plain_text_with_highlight_ranges() -> Result<()> {
    let app = spawn_app().await?;
    let (ann, ben, direct) = pair(&app).await?;
    app.send(&ann, &direct, "We deploy on Friday after the café")
        .await?;
    app.send(&ann, &direct, "🎉 <b>deployed</b>").await?;

    let page = search_page(&app, &ben, json!({"q": "deplo cafe"})).await?;
    let snippet = &page["nodes"][0]["snippet"];
    assert_eq!(snippet["text"], "We deploy on Friday after the café");
    assert_eq!(
        snippet["highlights"],
        json!([{"start": 3, "end": 9}, {"start": 30, "end": 34}])
    );

    // Offsets count code points (the emoji is one), and markup in a body
    // stays text.
    let page = search_page(&app, &ben, json!({"q": "deployed"})).await?;
    let snippet = &page["nodes"][0]["snippet"];
    assert_eq!(snippet["text"], "🎉 <b>deployed</b>");
    assert_eq!(snippet["highlights"], json!([{"start": 5, "end": 13}]));

    // A long body is cut around the match, and says so.
    let words: Vec<String> = (0..60).map(|i| format!("w{i}")).collect();
    let long = format!(
        "{} rollout {}",
        words[..30].join(" "),
        words[30..].join(" ")
    );
    app.send(&ann, &direct, &long).await?;
    let page = search_page(&app, &ben, json!({"q": "rollout"})).await?;
    let snippet = &page["nodes"][0]["snippet"];
    let text: Vec<char> = snippet["text"].as_str().unwrap().chars().collect();
    assert!(text.len() < long.len(), "{snippet}");
    assert_eq!((text[0], text[text.len() - 1]), ('…', '…'), "{snippet}");
    let range = &snippet["highlights"][0];
    let (start, end) = (
        range["start"].as_u64().unwrap(),
        range["end"].as_u64().unwrap(),
    );
    let word: String = text[start as usize..end as usize].iter().collect();
    assert_eq!(word, "rollout");
    Ok(())
}

#[tokio::test]
async fn nobody_finds_what_they_may_not_read() -> Result<()> {
    let app = spawn_app().await?;
    let (ann, ben, direct) = pair(&app).await?;
    let cy = app.register("cyd").await?;
    let dee = app.register("dee").await?;
    app.send(&ann, &direct, "secret plans").await?;
    let group = app
        .ok(
            &ann.token,
            CREATE,
            json!({"t": "team", "m": [dee.id, ben.id]}),
        )
        .await?["createGroupConversation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.send(&ann, &group, "secret group plans").await?;
    assert_eq!(bodies(&app, &dee, "secret").await?, ["secret group plans"]);

    // A stranger finds nothing, and filtering on the conversation looks
    // like filtering on one that does not exist.
    assert!(bodies(&app, &cy, "secret").await?.is_empty());
    let filtered = search_raw(&app, &cy, json!({"q": "secret", "c": direct})).await?;
    assert_eq!(error_code(&filtered), "NOT_FOUND");

    // A removed member loses the group's messages at once.
    app.ok(
        &ann.token,
        "mutation($c: ID!, $u: ID!) { removeMember(conversationId: $c, userId: $u) { id } }",
        json!({"c": group, "u": dee.id}),
    )
    .await?;
    assert!(bodies(&app, &dee, "secret").await?.is_empty());
    let filtered = search_raw(&app, &dee, json!({"q": "secret", "c": group})).await?;
    assert_eq!(error_code(&filtered), "NOT_FOUND");

    // The conversation filter.
    let page = search_page(&app, &ben, json!({"q": "secret", "c": direct})).await?;
    assert_eq!(page_bodies(&page), ["secret plans"]);
    assert_eq!(bodies(&app, &ben, "secret").await?.len(), 2);

    // A deleted conversation's messages are gone from search.
    app.ok(
        &ann.token,
        "mutation($c: ID!) { deleteConversation(id: $c) }",
        json!({"c": group}),
    )
    .await?;
    assert_eq!(bodies(&app, &ben, "secret").await?, ["secret plans"]);
    Ok(())
}

#[tokio::test]
async fn system_notices_are_not_searched() -> Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let group = app
        .ok(&ann.token, CREATE, json!({"t": "team", "m": []}))
        .await?["createGroupConversation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.ok(
        &ann.token,
        "mutation($c: ID!, $u: [ID!]!) { addMembers(conversationId: $c, userIds: $u) { id } }",
        json!({"c": group, "u": [ben.id]}),
    )
    .await?;
    app.send(&ann, &group, "welcome, I added you").await?;
    // The notice says "ann added ben"; only the text message is found.
    assert_eq!(bodies(&app, &ben, "added").await?, ["welcome, I added you"]);
    Ok(())
}

#[tokio::test]
async fn bad_queries_name_the_field_and_hostile_ones_are_words() -> Result<()> {
    let app = spawn_app().await?;
    let (ann, ben, direct) = pair(&app).await?;
    app.send(&ann, &direct, "foo OR bar NEAR baz").await?;
    for query in ["", "   ", "*** \" ( ) ^ :", &"a".repeat(257)] {
        let response = search_raw(&app, &ben, json!({"q": query})).await?;
        assert_eq!(
            error_code(&response),
            "BAD_USER_INPUT",
            "{query}: {response}"
        );
        assert_eq!(response["errors"][0]["extensions"]["field"], "query");
    }
    for query in [
        r#""foo" OR bar*` NEAR( ^"#,
        "foo AND (bar",
        "'foo':* & !bar | baz <-> x",
        "NEAR(foo bar, 2)",
        "\u{E000}foo\u{E001}",
        "-foo +bar ~baz \\",
    ] {
        let response = search_raw(&app, &ben, json!({"q": query})).await?;
        assert!(response.get("errors").is_none(), "{query}: {response}");
    }
    // The words of operators are plain words.
    assert_eq!(
        bodies(&app, &ben, r#""foo" OR bar*` NEAR( ^"#).await?,
        ["foo OR bar NEAR baz"]
    );
    let too_big = search_raw(&app, &ben, json!({"q": "foo", "first": 51})).await?;
    assert_eq!(error_code(&too_big), "BAD_USER_INPUT");
    assert_eq!(too_big["errors"][0]["extensions"]["field"], "first");
    Ok(())
}
