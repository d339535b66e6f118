//! `search`: `searchMessages` over a user's 100 conversations holding a
//! million messages, for a rare word, a common prefix, two words, an
//! accent-folded word, the common prefix by relevance, and the most common
//! word (in three messages of four) in both orders.
//!
//! Bodies are 4 to 16 words drawn from a few thousand pseudo-words with
//! Zipf-like frequencies (the k-th most common word about 1/k as often as
//! the first), some of them accented, so that each query has the
//! selectivity it would have in real chat: the common prefix matches a
//! large share of all messages, the rare word a handful.

use std::{collections::HashSet, time::Instant};

use anyhow::{Result, bail};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::json;
use service::entity::conversation::Kind;

use crate::{
    Ctx,
    client::gql,
    report::{CpuWatch, Row, histogram, record},
};

const SEARCH: &str = "query($q: String!, $o: SearchOrder) { searchMessages(query: $q, orderBy: $o, first: 20) {
    nodes { message { id body createdAt sender { displayName } } snippet { text highlights { start end } } } } }";
const CONVERSATIONS: usize = 100;
const VOCABULARY: usize = 4000;

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let total = ctx.size(5_000, 1_000_000);
    let requests = ctx.size(30, 500);
    let users = ctx.seeder.users("searcher", 2).await?;
    let lists: Vec<Vec<i64>> = (0..CONVERSATIONS)
        .map(|_| vec![users[1].id, users[0].id])
        .collect();
    let ids = ctx.seeder.conversations(Kind::Group, &lists).await?;
    let words = Vocabulary::new(VOCABULARY);
    let mut rng = StdRng::seed_from_u64(5);
    let seeded = Instant::now();
    for id in &ids {
        ctx.seeder
            .messages_with(*id, users[1].id, total / CONVERSATIONS, |_| {
                words.body(&mut rng)
            })
            .await?;
    }
    ctx.seeder.analyze().await?;
    eprintln!("seeded {total} messages in {:.1?}", seeded.elapsed());

    let accented = words
        .words
        .iter()
        .find(|w| !w.is_ascii())
        .map(|w| fold(w))
        .unwrap_or_default();
    let queries = [
        ("rare word", words.words[VOCABULARY - 10].clone(), "NEWEST"),
        ("common prefix", prefix(&words.words[0], 3), "NEWEST"),
        (
            "two words",
            format!("{} {}", words.words[30], words.words[60]),
            "NEWEST",
        ),
        ("accent-folded", accented, "NEWEST"),
        ("common prefix", prefix(&words.words[0], 3), "RELEVANCE"),
        // The most common word, in three messages of four: the worst case
        // for both orders.
        ("most common word", words.words[0].clone(), "NEWEST"),
        ("most common word", words.words[0].clone(), "RELEVANCE"),
    ];
    let url = ctx.target.graphql_url();
    // PostgreSQL loads the unaccent rules once per connection, ~10 ms: a
    // cost of the pool's first searches, not of searching. Concurrent
    // requests touch every pooled connection.
    let warm = (0..16).map(|_| {
        gql(
            &ctx.http,
            &url,
            &users[0].token,
            SEARCH,
            json!({"q": "warm"}),
        )
    });
    futures_util::future::try_join_all(warm).await?;
    let mut rows = Vec::new();
    for (what, query, order) in queries {
        let mut h = histogram()?;
        let watch = CpuWatch::start();
        let started = Instant::now();
        let mut hits = 0;
        for _ in 0..requests {
            let sent = Instant::now();
            let data = gql(
                &ctx.http,
                &url,
                &users[0].token,
                SEARCH,
                json!({"q": query, "o": order}),
            )
            .await?;
            record(&mut h, sent.elapsed());
            hits = data["searchMessages"]["nodes"]
                .as_array()
                .map_or(0, Vec::len);
        }
        if hits == 0 {
            bail!("search for {query:?} found nothing");
        }
        watch.check("search");
        let p99 = h.value_at_quantile(0.99) as f64 / 1000.0;
        rows.push(
            Row::new(
                "search",
                format!("{what} \"{query}\", {order}, {total} messages: {hits} hits"),
            )
            .latencies(&h)
            .rate(requests as u64, started.elapsed())
            .rss(&ctx.target)
            .judge("p99<=50ms", p99 <= 50.0),
        );
    }
    Ok(rows)
}

fn prefix(word: &str, n: usize) -> String {
    word.chars().take(n).collect()
}

/// `word` without its accents (only those [`Vocabulary`] adds).
fn fold(word: &str) -> String {
    word.chars()
        .map(|c| match c {
            'á' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' => 'o',
            'ü' => 'u',
            c => c,
        })
        .collect()
}

/// Pronounceable pseudo-words, most common first, and a sampler with
/// Zipf-like frequencies.
struct Vocabulary {
    words: Vec<String>,
    /// Cumulative weights, for sampling by binary search.
    cumulative: Vec<f64>,
}

impl Vocabulary {
    fn new(size: usize) -> Self {
        const CONSONANTS: &[u8] = b"bdfgklmnprstvz";
        const VOWELS: &[u8] = b"aeiou";
        let mut rng = StdRng::seed_from_u64(42);
        let mut seen = HashSet::new();
        let mut words = Vec::with_capacity(size);
        while words.len() < size {
            let syllables = rng.random_range(2..=4);
            let mut word = String::new();
            for _ in 0..syllables {
                word.push(CONSONANTS[rng.random_range(0..CONSONANTS.len())] as char);
                word.push(VOWELS[rng.random_range(0..VOWELS.len())] as char);
            }
            // One word in 25 carries an accent ("kéla"); its folded form is
            // kept unique so a folded query has the accented word's
            // selectivity.
            if !seen.insert(word.clone()) {
                continue;
            }
            if words.len() % 25 == 7 {
                word = accent(&word);
            }
            words.push(word);
        }
        let mut total = 0.0;
        let cumulative = (1..=size)
            .map(|rank| {
                total += 1.0 / (rank as f64).powf(1.07);
                total
            })
            .collect();
        Self { words, cumulative }
    }

    fn word(&self, rng: &mut StdRng) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let u = rng.random::<f64>() * total;
        let i = self.cumulative.partition_point(|c| *c < u);
        &self.words[i.min(self.words.len() - 1)]
    }

    fn body(&self, rng: &mut StdRng) -> String {
        let n = rng.random_range(4..=16);
        let mut body = String::new();
        for i in 0..n {
            if i > 0 {
                body.push(' ');
            }
            body.push_str(self.word(rng));
        }
        body
    }
}

fn accent(word: &str) -> String {
    let mut done = false;
    word.chars()
        .map(|c| {
            let accented = match c {
                'a' => 'á',
                'e' => 'é',
                'i' => 'í',
                'o' => 'ó',
                'u' => 'ü',
                c => return c,
            };
            if done {
                c
            } else {
                done = true;
                accented
            }
        })
        .collect()
}
