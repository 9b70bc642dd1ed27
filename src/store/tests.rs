//! Store tests: each verb, then a model-based property test with a reopen
//! step (after sled's `prop_tree_matches_btreemap`): random operations run
//! against the store and an in-memory model, and the two must agree —
//! including after the store is closed and opened again.

use super::*;
use crate::domain::{ArticleState, DialogueFilter, FeedEventType, ListOrder, NewArticle};
use dialogwatch_worker::record::{DialogueEvent, DialogueKind, Location, Partner};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// A store config over `path` for tests: short leases off, three attempts, no backoff.
pub(super) fn config(path: &std::path::Path) -> StoreConfig {
    StoreConfig {
        path: path.to_path_buf(),
        lease_duration: Duration::from_secs(30),
        max_attempts: 3,
        retry_backoff: Duration::ZERO,
        max_retry_backoff: Duration::ZERO,
        cache_bytes: StoreConfig::DEFAULT_CACHE_BYTES,
    }
}

/// A plain-text article, optionally with a URL.
pub(super) fn article(text: &str, url: Option<&str>) -> NewArticle {
    NewArticle {
        request_id: None,
        content: text.to_string(),
        is_html: false,
        url: url.map(str::to_string),
        outlet: None,
        published_at: None,
        title: None,
    }
}

pub(super) fn dialogue(partner: &str, edition: Option<u32>, date: Option<&str>) -> Extraction {
    Extraction {
        is_dialogue: true,
        source_url: None,
        reason: None,
        events: vec![DialogueEvent {
            primary: true,
            kind: DialogueKind::PolicyDialogue,
            partner: Partner {
                code: partner.to_string(),
                name_vi: partner.to_string(),
                name_en: partner.to_string(),
            },
            edition,
            date: date.map(|text| text.parse().expect("date")),
            location: Location::default(),
            relationship: None,
            participants: Vec::new(),
            documents: Vec::new(),
            areas: Vec::new(),
            topics: Vec::new(),
            previous: None,
            evidence: Vec::new(),
        }],
    }
}

async fn lease_one(store: &Store) -> LeasedArticle {
    let mut leased = store
        .lease(1, Duration::from_secs(30), Duration::ZERO)
        .await
        .expect("lease");
    leased.pop().expect("one ready article")
}

fn id_of(leased: &LeasedArticle) -> ArticleId {
    leased.job.article_id.parse().expect("article id")
}

#[tokio::test]
async fn duplicates_by_url_text_and_request_id_return_the_first_id() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(config(directory.path())).await.expect("open");
    let first = store
        .enqueue(article("Hội đàm   quốc phòng", Some("https://a.vn/1")))
        .await
        .expect("enqueue");
    assert!(first.created);
    let same_url = store
        .enqueue(article("khác", Some("https://a.vn/1")))
        .await
        .expect("enqueue");
    let same_text = store
        .enqueue(article("Hội đàm quốc phòng", Some("https://b.vn/2")))
        .await
        .expect("enqueue");
    let nfd_text = store
        .enqueue(article(
            "Ho\u{0302}\u{0323}i \u{0111}a\u{0300}m quo\u{0302}\u{0301}c pho\u{0300}ng",
            None,
        ))
        .await
        .expect("enqueue");
    for duplicate in [same_url, same_text, nfd_text] {
        assert_eq!(duplicate.article_id, first.article_id);
        assert!(!duplicate.created);
    }
    let mut with_request = article("một bài khác", None);
    with_request.request_id = Some("req-1".into());
    let once = store.enqueue(with_request.clone()).await.expect("enqueue");
    with_request.content = "nội dung gửi lại khác đi".into();
    let again = store.enqueue(with_request).await.expect("enqueue");
    assert_eq!(once.article_id, again.article_id);
    assert_eq!(store.gauges().await.expect("gauges").queued, 2);
}

#[tokio::test]
async fn completing_merges_reports_and_appends_the_feed_in_order() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(config(directory.path())).await.expect("open");
    for text in ["một", "hai", "ba"] {
        store.enqueue(article(text, None)).await.expect("enqueue");
    }
    let first = lease_one(&store).await;
    let ids = store
        .complete(
            id_of(&first),
            &first.job.lease_id,
            dialogue("SG", Some(14), None),
        )
        .await
        .expect("complete");
    assert_eq!(ids.len(), 1);
    let second = lease_one(&store).await;
    let merged = store
        .complete(
            id_of(&second),
            &second.job.lease_id,
            dialogue("SG", Some(14), Some("2023-10-05")),
        )
        .await
        .expect("complete");
    assert_eq!(merged, ids, "same event, same record");
    let third = lease_one(&store).await;
    store
        .complete(
            id_of(&third),
            &third.job.lease_id,
            dialogue("SG", Some(15), None),
        )
        .await
        .expect("complete");

    let feed = store.read_feed_from(0, 10).await.expect("feed");
    let summary: Vec<(u64, FeedEventType)> = feed
        .iter()
        .map(|event| (event.sequence, event.event_type))
        .collect();
    assert_eq!(
        summary,
        [
            (1, FeedEventType::Created),
            (2, FeedEventType::Updated),
            (3, FeedEventType::Created)
        ]
    );
    let record = store.dialogue(&ids[0]).await.expect("record");
    assert_eq!(record.revision, 2);
    assert_eq!(record.sources.len(), 2);
    assert_eq!(
        record.event.date.map(|date| date.to_string()).as_deref(),
        Some("2023-10-05")
    );
    assert_eq!(store.feed_head(), 3);

    // Completing again (a duplicate delivery) changes nothing.
    let repeat = store
        .complete(
            id_of(&first),
            &first.job.lease_id,
            dialogue("SG", Some(14), None),
        )
        .await
        .expect("idempotent");
    assert_eq!(repeat, ids);
    assert_eq!(store.feed_head(), 3);
}

#[tokio::test]
async fn a_completion_that_does_not_wait_for_the_disk_is_published_after_a_flush_and_kept() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(config(directory.path())).await.expect("open");
    let mut head = store.watch_feed_head();
    store
        .enqueue(article("Đối thoại lần thứ 3", None))
        .await
        .expect("enqueue");
    let leased = lease_one(&store).await;
    let article_id: ArticleId = leased.job.article_id.parse().expect("id");
    let worker = store.clone();
    let runtime = tokio::runtime::Handle::current();
    let record_ids = tokio::task::spawn_blocking(move || {
        worker.complete_without_waiting_for_disk(
            &runtime,
            article_id,
            &leased.job.lease_id,
            dialogue("SG", Some(3), Some("2024-06-12")),
            None,
        )
    })
    .await
    .expect("task")
    .expect("complete");
    assert_eq!(record_ids.len(), 1);
    // The head moves once the background flush has made the event durable.
    tokio::time::timeout(Duration::from_secs(20), head.wait_for(|head| *head == 1))
        .await
        .expect("published within the patience")
        .expect("head");
    let feed = store.read_feed_from(0, 10).await.expect("feed");
    assert_eq!(feed.len(), 1);
    assert_eq!(feed[0].record.id, record_ids[0]);
    store.close().await.expect("close");
    drop(store);
    let store = Store::open(config(directory.path())).await.expect("reopen");
    assert_eq!(store.feed_head(), 1);
    assert_eq!(
        store.article(article_id).await.expect("article").state,
        ArticleState::Done
    );
    store.close().await.expect("close");
}

#[tokio::test]
async fn stored_wire_forms_are_replayed_as_they_are_and_older_events_are_encoded() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(config(directory.path())).await.expect("open");
    let complete = |store: Store, text: &'static str, partner: &'static str| async move {
        store.enqueue(article(text, None)).await.expect("enqueue");
        let leased = lease_one(&store).await;
        store
            .complete(
                id_of(&leased),
                &leased.job.lease_id,
                dialogue(partner, Some(1), None),
            )
            .await
            .expect("complete");
    };
    // Sequence 1 before the store has an encoder, 2 after.
    complete(store.clone(), "Đối thoại thứ nhất", "SG").await;
    store.encode_feed_with(Arc::new(|event: &FeedEvent| {
        format!("wire:{}", event.record.event.partner.code).into_bytes()
    }));
    complete(store.clone(), "Đối thoại thứ hai", "JP").await;
    let live = store.read_feed_shared(0, 10, false).await.expect("recent");
    assert_eq!(
        live.iter()
            .map(|shared| shared.sequence)
            .collect::<Vec<_>>(),
        [1, 2]
    );
    store.close().await.expect("close");
    drop((store, live));

    // Reopened: nothing in memory, everything from sled.
    let store = Store::open(config(directory.path())).await.expect("reopen");
    let stored = store.read_feed_shared(0, 10, false).await.expect("stored");
    let mut encoded_here = Vec::new();
    let wires: Vec<bytes::Bytes> = stored
        .iter()
        .map(|shared| {
            shared
                .wire_or_init(|event| {
                    encoded_here.push(event.sequence);
                    bytes::Bytes::from("encoded now")
                })
                .expect("wire")
        })
        .collect();
    assert_eq!(
        wires,
        [
            bytes::Bytes::from("encoded now"),
            bytes::Bytes::from("wire:JP")
        ]
    );
    assert_eq!(
        encoded_here,
        [1],
        "only the event stored without a wire form is encoded"
    );
    // Decoded on demand, for a filter.
    assert_eq!(
        stored[1]
            .event()
            .expect("decoded")
            .record
            .event
            .partner
            .code,
        "JP"
    );
    assert_eq!(
        store
            .read_feed_shared(1, 10, false)
            .await
            .expect("after 1")
            .len(),
        1
    );
    store.close().await.expect("close");
}

#[tokio::test]
async fn stale_leases_are_refused_and_failures_back_off_to_dead_letters() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(config(directory.path())).await.expect("open");
    store.enqueue(article("một", None)).await.expect("enqueue");
    let short = store
        .lease(1, Duration::ZERO, Duration::ZERO)
        .await
        .expect("lease")
        .pop()
        .expect("leased");
    let again = store
        .lease(1, Duration::from_secs(30), Duration::from_secs(5))
        .await
        .expect("lease")
        .pop()
        .expect("expired lease handed out again");
    assert_eq!(again.job.attempt, 2);
    let stale = store.fail(id_of(&short), &short.job.lease_id, "late").await;
    assert!(matches!(stale, Err(StoreError::LeaseNotHeld { .. })));
    let outcome = store
        .fail(id_of(&again), &again.job.lease_id, "boom")
        .await
        .expect("fail");
    assert!(!outcome.dead_lettered);
    let third = lease_one(&store).await;
    let outcome = store
        .fail(id_of(&third), &third.job.lease_id, "boom 3")
        .await
        .expect("fail");
    assert!(outcome.dead_lettered);
    let dead = store.dead_letters(10).await.expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error.as_deref(), Some("boom 3"));
    store.retry_dead_letter(id_of(&third)).await.expect("retry");
    assert_eq!(lease_one(&store).await.job.attempt, 1);
}

#[tokio::test]
async fn list_pages_newest_first_and_refuses_foreign_tokens() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = Store::open(config(directory.path())).await.expect("open");
    let dates = ["2021-05-01", "2023-10-05", "2022-01-09"];
    for (index, date) in dates.iter().enumerate() {
        store
            .enqueue(article(&format!("bài {index}"), None))
            .await
            .expect("enqueue");
        let leased = lease_one(&store).await;
        store
            .complete(
                id_of(&leased),
                &leased.job.lease_id,
                dialogue("JP", None, Some(date)),
            )
            .await
            .expect("complete");
    }
    let first = store
        .list_dialogues(DialogueFilter::default(), ListOrder::DateDesc, 2, None)
        .await
        .expect("page 1");
    let second = store
        .list_dialogues(
            DialogueFilter::default(),
            ListOrder::DateDesc,
            2,
            first.next_page_token.clone(),
        )
        .await
        .expect("page 2");
    let order: Vec<String> = first
        .items
        .iter()
        .chain(&second.items)
        .filter_map(|record| record.event.date.map(|date| date.to_string()))
        .collect();
    assert_eq!(order, ["2023-10-05", "2022-01-09", "2021-05-01"]);
    assert!(second.next_page_token.is_none());
    for bad in ["zz", "0", "ff00"] {
        let refused = store
            .list_dialogues(
                DialogueFilter::default(),
                ListOrder::DateDesc,
                2,
                Some(bad.to_string()),
            )
            .await;
        assert!(
            matches!(refused, Err(StoreError::InvalidPageToken)),
            "{bad}"
        );
    }
}

/// One step of the property test.
#[derive(Debug, Clone)]
enum Operation {
    Enqueue(u8),
    Lease { count: usize, short: bool },
    Complete(usize),
    Fail(usize),
    Reopen,
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        4 => (0u8..12).prop_map(Operation::Enqueue),
        3 => (1usize..4, any::<bool>()).prop_map(|(count, short)| Operation::Lease { count, short }),
        3 => (0usize..8).prop_map(Operation::Complete),
        2 => (0usize..8).prop_map(Operation::Fail),
        1 => Just(Operation::Reopen),
    ]
}

/// What the model says about one article.
#[derive(Debug, Clone, PartialEq)]
enum Modelled {
    Queued,
    Leased { lease_id: String, short: bool },
    Done,
    Dead,
}

#[derive(Default)]
struct Model {
    by_text: BTreeMap<u8, ArticleId>,
    articles: BTreeMap<ArticleId, (Modelled, u32)>,
    completed: u64,
}

impl Model {
    fn leased(&self) -> Vec<(ArticleId, String)> {
        self.articles
            .iter()
            .filter_map(|(id, (state, _))| match state {
                Modelled::Leased { lease_id, .. } => Some((*id, lease_id.clone())),
                _ => None,
            })
            .collect()
    }

    /// What a lease call reclaims first: short leases have expired.
    fn reclaim(&mut self, max_attempts: u32) {
        for (state, attempts) in self.articles.values_mut() {
            if matches!(state, Modelled::Leased { short: true, .. }) {
                *state = if *attempts >= max_attempts {
                    Modelled::Dead
                } else {
                    Modelled::Queued
                };
            }
        }
    }
}

async fn run_operations(operations: Vec<Operation>) -> Result<(), TestCaseError> {
    let directory = tempfile::tempdir().map_err(|error| TestCaseError::fail(error.to_string()))?;
    let settings = config(directory.path());
    let max_attempts = settings.max_attempts;
    let mut store = Store::open(settings.clone())
        .await
        .map_err(|error| TestCaseError::fail(error.to_string()))?;
    let mut model = Model::default();
    for operation in operations {
        match operation {
            Operation::Enqueue(text) => {
                let outcome = store
                    .enqueue(article(&format!("bài viết số {text}"), None))
                    .await
                    .map_err(|error| TestCaseError::fail(error.to_string()))?;
                match model.by_text.get(&text) {
                    Some(known) => {
                        prop_assert_eq!(outcome.article_id, *known);
                        prop_assert!(!outcome.created);
                    }
                    None => {
                        prop_assert!(outcome.created);
                        model.by_text.insert(text, outcome.article_id);
                        model
                            .articles
                            .insert(outcome.article_id, (Modelled::Queued, 0));
                    }
                }
            }
            Operation::Lease { count, short } => {
                model.reclaim(max_attempts);
                let duration = if short {
                    Duration::ZERO
                } else {
                    Duration::from_secs(60)
                };
                let leased = store
                    .lease(count, duration, Duration::ZERO)
                    .await
                    .map_err(|error| TestCaseError::fail(error.to_string()))?;
                let ready = model
                    .articles
                    .values()
                    .filter(|(state, _)| *state == Modelled::Queued)
                    .count();
                prop_assert_eq!(leased.len(), count.min(ready));
                for lease in leased {
                    let id = id_of(&lease);
                    let entry = model.articles.get_mut(&id);
                    prop_assert!(entry.is_some(), "leased an unknown article");
                    if let Some((state, attempts)) = entry {
                        prop_assert_eq!(&*state, &Modelled::Queued);
                        *attempts += 1;
                        prop_assert_eq!(lease.job.attempt, *attempts);
                        *state = Modelled::Leased {
                            lease_id: lease.job.lease_id.clone(),
                            short,
                        };
                    }
                }
            }
            Operation::Complete(pick) => {
                let leased = model.leased();
                let Some((id, lease_id)) = leased.get(pick % leased.len().max(1)).cloned() else {
                    continue;
                };
                store
                    .complete(
                        id,
                        &lease_id,
                        dialogue("SG", Some(u32::try_from(id.0).unwrap_or(0)), None),
                    )
                    .await
                    .map_err(|error| TestCaseError::fail(error.to_string()))?;
                model.completed += 1;
                if let Some(entry) = model.articles.get_mut(&id) {
                    entry.0 = Modelled::Done;
                }
            }
            Operation::Fail(pick) => {
                let leased = model.leased();
                let Some((id, lease_id)) = leased.get(pick % leased.len().max(1)).cloned() else {
                    continue;
                };
                let outcome = store
                    .fail(id, &lease_id, "failed on purpose")
                    .await
                    .map_err(|error| TestCaseError::fail(error.to_string()))?;
                if let Some((state, attempts)) = model.articles.get_mut(&id) {
                    let dead = *attempts >= max_attempts;
                    prop_assert_eq!(outcome.dead_lettered, dead);
                    *state = if dead {
                        Modelled::Dead
                    } else {
                        Modelled::Queued
                    };
                }
            }
            Operation::Reopen => {
                store
                    .close()
                    .await
                    .map_err(|error| TestCaseError::fail(error.to_string()))?;
                drop(store);
                store = Store::open(settings.clone())
                    .await
                    .map_err(|error| TestCaseError::fail(error.to_string()))?;
            }
        }
        // The store and the model agree after every step.
        for (id, (state, attempts)) in &model.articles {
            let status = store
                .article(*id)
                .await
                .map_err(|error| TestCaseError::fail(error.to_string()))?;
            let expected = match state {
                Modelled::Queued => ArticleState::Queued,
                Modelled::Leased { .. } => ArticleState::Processing,
                Modelled::Done => ArticleState::Done,
                Modelled::Dead => ArticleState::DeadLettered,
            };
            prop_assert_eq!(status.state, expected, "article {}", id);
            prop_assert_eq!(status.attempts, *attempts);
        }
        prop_assert_eq!(store.feed_head(), model.completed);
        let feed = store
            .read_feed_from(0, 10_000)
            .await
            .map_err(|error| TestCaseError::fail(error.to_string()))?;
        let sequences: Vec<u64> = feed.iter().map(|event| event.sequence).collect();
        prop_assert_eq!(sequences, (1..=model.completed).collect::<Vec<_>>());
        let gauges = store
            .gauges()
            .await
            .map_err(|error| TestCaseError::fail(error.to_string()))?;
        let count = |wanted: fn(&Modelled) -> bool| {
            model
                .articles
                .values()
                .filter(|(state, _)| wanted(state))
                .count() as u64
        };
        prop_assert_eq!(gauges.queued, count(|state| *state == Modelled::Queued));
        prop_assert_eq!(
            gauges.leased,
            count(|state| matches!(state, Modelled::Leased { .. }))
        );
        prop_assert_eq!(
            gauges.dead_lettered,
            count(|state| *state == Modelled::Dead)
        );
    }
    store
        .close()
        .await
        .map_err(|error| TestCaseError::fail(error.to_string()))?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_store_matches_the_model_across_reopens(operations in proptest::collection::vec(operation(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|error| TestCaseError::fail(error.to_string()))?;
        runtime.block_on(run_operations(operations))?;
    }
}
