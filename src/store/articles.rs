//! Articles as stored: the status (`articles`, small JSON, rewritten by every
//! lease, completion and failure) apart from the body (`article_bodies`,
//! written once at submission and never again).
//!
//! A body is one flag byte (`T` text, `H` HTML) then the text as UTF-8, so
//! reading it copies and checks the bytes and parses nothing. Keeping the
//! two together meant every lease and completion decoded, re-encoded and
//! rewrote the whole text (about 6 KB of JSON for a typical article).
//!
//! Since the text log ([`super::texts`]) the body itself is appended there and
//! `article_bodies` holds `L` and its [`TextRef`]; bodies stored inline before
//! it are read as they are.
//!
//! The cleaned text of a completed article (`cleaned`, what evidence and
//! snippets point into) is appended to the text log the same way: its value
//! is [`CLEANED_LOGGED_FLAG`] and a [`TextRef`], or (written before) the text.
//!
//! Stores of before this layout kept both in one JSON value in `articles`;
//! [`Inner::split_article_bodies`] moves their bodies out on open.

use super::records::{TreeId, Writes};
use super::texts::{TextReadError, TextRef};
use super::{be, decode, encode, Inner, StoreError};
use crate::domain::{ArticleId, ArticleStatus};
use serde::Deserialize;

/// The layout of the article trees (absent: status and body in one value).
const META_ARTICLE_LAYOUT: &[u8] = b"article_layout";
const STATUS_APART_FROM_BODY: &[u8] = b"status-apart-from-body";
/// Articles moved per log record by the migration.
const MIGRATION_BATCH: usize = 512;

const TEXT_FLAG: u8 = b'T';
const HTML_FLAG: u8 = b'H';
/// An `article_bodies` value that is a reference into the text log.
const LOGGED_FLAG: u8 = b'L';

/// A `cleaned` value that is a reference into the text log: a byte that
/// never begins UTF-8 text, which the values written before the log are.
const CLEANED_LOGGED_FLAG: u8 = 0xFF;

/// A stored value that points into the text log: `flag` then the reference.
fn logged_value(flag: u8, text_ref: TextRef) -> Vec<u8> {
    let mut value = Vec::with_capacity(1 + super::texts::TEXT_REF_BYTES);
    value.push(flag);
    value.extend_from_slice(&text_ref.to_bytes());
    value
}

/// The `article_bodies` value of a body appended to the text log.
pub(super) fn logged_body_value(text_ref: TextRef) -> Vec<u8> {
    logged_value(LOGGED_FLAG, text_ref)
}

/// An article's text as submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ArticleBody {
    pub(super) content: String,
    pub(super) is_html: bool,
}

/// The stored form of a body.
pub(super) fn encode_body(content: &str, is_html: bool) -> Vec<u8> {
    let mut encoded = Vec::with_capacity(1 + content.len());
    encoded.push(if is_html { HTML_FLAG } else { TEXT_FLAG });
    encoded.extend_from_slice(content.as_bytes());
    encoded
}

/// Decodes a stored body.
pub(super) fn decode_body(bytes: &[u8]) -> Result<ArticleBody, StoreError> {
    let Some((&flag, text)) = bytes.split_first() else {
        return Err(StoreError::Corrupt("article body: empty".into()));
    };
    let is_html = match flag {
        TEXT_FLAG => false,
        HTML_FLAG => true,
        other => {
            return Err(StoreError::Corrupt(format!(
                "article body: unknown flag byte {other:#04x}"
            )))
        }
    };
    let content = std::str::from_utf8(text)
        .map_err(|error| StoreError::Corrupt(format!("article body: {error}")))?
        .to_string();
    Ok(ArticleBody { content, is_html })
}

/// An article as stores of before [`STATUS_APART_FROM_BODY`] kept it.
#[derive(Deserialize)]
struct StatusWithBody {
    status: ArticleStatus,
    content: String,
    is_html: bool,
}

impl Inner {
    /// An article's status.
    pub(super) fn article_status(&self, id: ArticleId) -> Result<ArticleStatus, StoreError> {
        match self.trees.articles.get(be(id.0))? {
            Some(bytes) => decode(&bytes),
            None => Err(article_not_found(id)),
        }
    }

    /// An article's body, from the text log or (stored before it) inline.
    pub(super) fn article_body(&self, id: ArticleId) -> Result<ArticleBody, StoreError> {
        let encoded = self.encoded_body(id)?;
        decode_body(&encoded)
    }

    /// An article's body as [`encode_body`] encoded it. A body the text log
    /// lost (see [`super::texts`]) is [`StoreError::TextLost`].
    pub(super) fn encoded_body(&self, id: ArticleId) -> Result<Vec<u8>, StoreError> {
        let Some(value) = self.trees.article_bodies.get(be(id.0))? else {
            return Err(article_not_found(id));
        };
        let Some(reference) = value.strip_prefix(&[LOGGED_FLAG]) else {
            return Ok(value.to_vec());
        };
        self.read_logged(id, reference)
    }

    /// The text `reference` (the bytes after a value's flag) points to in the
    /// text log, for article `id`: [`StoreError::TextLost`] when the log lost it.
    fn read_logged(&self, id: ArticleId, reference: &[u8]) -> Result<Vec<u8>, StoreError> {
        let text_ref = TextRef::from_bytes(reference).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "article {id}: text reference of {} bytes",
                reference.len()
            ))
        })?;
        self.texts.read(text_ref).map_err(|error| match error {
            TextReadError::Lost(reason) => StoreError::TextLost {
                article_id: id.to_string(),
                reason,
            },
            TextReadError::Io(error) => StoreError::Io(error.to_string()),
        })
    }

    /// The `article_bodies` value `value` (under `key`) with the body inline:
    /// read from the text log when it is a reference (kept as it is when the
    /// log lost it).
    pub(super) fn inline_body_value(
        &self,
        key: &[u8],
        value: sled::IVec,
    ) -> Result<sled::IVec, StoreError> {
        if value.first() != Some(&LOGGED_FLAG) {
            return Ok(value);
        }
        let id = ArticleId(super::read_u64(key)?);
        match self.encoded_body(id) {
            Ok(encoded) => Ok(encoded.into()),
            Err(StoreError::TextLost { .. }) => Ok(value),
            Err(error) => Err(error),
        }
    }

    /// The `cleaned` value `value` (under `key`) with the text inline.
    pub(super) fn inline_cleaned_value(
        &self,
        key: &[u8],
        value: sled::IVec,
    ) -> Result<sled::IVec, StoreError> {
        if value.first() != Some(&CLEANED_LOGGED_FLAG) {
            return Ok(value);
        }
        let id = ArticleId(super::read_u64(key)?);
        Ok(self.stored_cleaned_text(id)?.into_bytes().into())
    }

    /// Appends a cleaned text to the text log; returns its `cleaned` value.
    pub(super) fn log_cleaned_text(&self, cleaned: &str) -> Result<Vec<u8>, StoreError> {
        let text_refs = self
            .texts
            .append(&[cleaned.as_bytes()])
            .map_err(|error| StoreError::Io(error.to_string()))?;
        let text_ref = text_refs
            .first()
            .ok_or_else(|| StoreError::Io("text log: one text appended, no reference".into()))?;
        Ok(logged_value(CLEANED_LOGGED_FLAG, *text_ref))
    }

    /// The stored cleaned text of an article (empty when it has none). One
    /// the text log lost is computed again from the body.
    pub(super) fn stored_cleaned_text(&self, id: ArticleId) -> Result<String, StoreError> {
        let Some(value) = self.trees.cleaned.get(be(id.0))? else {
            return Ok(String::new());
        };
        let Some(reference) = value.strip_prefix(&[CLEANED_LOGGED_FLAG]) else {
            return Ok(String::from_utf8_lossy(&value).into_owned());
        };
        match self.read_logged(id, reference) {
            Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Err(StoreError::TextLost { reason, .. }) => {
                tracing::warn!(%id, reason, "cleaned text lost; computed again from the article");
                self.cleaned_for(id)
            }
            Err(error) => Err(error),
        }
    }

    /// False when the article's body was lost by the text log (its
    /// submission was never acknowledged), true when it reads.
    pub(super) fn text_intact(&self, id: ArticleId) -> Result<bool, StoreError> {
        match self.encoded_body(id) {
            Ok(_) => Ok(true),
            Err(StoreError::TextLost { .. }) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Moves the bodies of a store of the one-value layout into
    /// `article_bodies`, [`MIGRATION_BATCH`] articles per log record, then
    /// records the layout. Returns the number of articles moved. An
    /// interrupted migration resumes: values already split are skipped.
    pub(super) fn split_article_bodies(&self) -> Result<u64, StoreError> {
        let meta = &self.trees.meta;
        if meta.get(META_ARTICLE_LAYOUT)?.as_deref() == Some(STATUS_APART_FROM_BODY) {
            return Ok(0);
        }
        let mut moved = 0u64;
        let mut after: Option<sled::IVec> = None;
        loop {
            let range = match &after {
                Some(key) => self.trees.articles.range::<&[u8], _>((
                    std::ops::Bound::Excluded(key.as_ref()),
                    std::ops::Bound::Unbounded,
                )),
                None => self.trees.articles.iter(),
            };
            let mut batch = Vec::with_capacity(MIGRATION_BATCH);
            let mut last = None;
            for entry in range.take(MIGRATION_BATCH) {
                let (key, value) = entry?;
                if let Ok(legacy) = serde_json::from_slice::<StatusWithBody>(&value) {
                    batch.push((
                        key.clone(),
                        encode(&legacy.status)?,
                        encode_body(&legacy.content, legacy.is_html),
                    ));
                } else {
                    // Split already (an interrupted migration): a status.
                    decode::<ArticleStatus>(&value)?;
                }
                last = Some(key);
            }
            let Some(last) = last else {
                break;
            };
            moved += batch.len() as u64;
            let mut writes = Writes::default();
            for (key, status, body) in batch {
                writes.insert(TreeId::Articles, key.as_ref(), status);
                writes.insert(TreeId::ArticleBodies, key.as_ref(), body);
            }
            self.commit(&writes)?;
            after = Some(last);
        }
        let mut writes = Writes::default();
        writes.insert(TreeId::Meta, META_ARTICLE_LAYOUT, STATUS_APART_FROM_BODY);
        self.commit(&writes)?;
        Ok(moved)
    }
}

/// The error for an article that is not stored.
pub(super) fn article_not_found(id: ArticleId) -> StoreError {
    StoreError::NotFound {
        what: "article",
        id: id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ArticleState;
    use crate::store::tests::config;
    use crate::store::Store;
    use std::time::Duration;

    #[test]
    fn a_body_decodes_to_what_was_encoded_and_damage_is_refused() {
        for (content, is_html) in [
            ("Đối thoại \"Chính sách\"\n\tlần thứ 14 \\ \u{1}", false),
            ("<p>Hội đàm</p>", true),
            ("", false),
        ] {
            let decoded = decode_body(&encode_body(content, is_html)).expect("decodes");
            assert_eq!(
                decoded,
                ArticleBody {
                    content: content.to_string(),
                    is_html
                }
            );
        }
        assert!(decode_body(b"").is_err());
        assert!(decode_body(b"Xtext").is_err());
        assert!(decode_body(b"T\xff\xfe").is_err());
    }

    fn legacy_status(id: u64, state: ArticleState) -> ArticleStatus {
        ArticleStatus {
            id: ArticleId(id),
            state,
            url: None,
            outlet: Some("A".into()),
            published_at: None,
            title: None,
            attempts: 0,
            last_error: None,
            dialogue_ids: Vec::new(),
            is_dialogue: None,
            reason: None,
            submitted_at_ms: 1,
            updated_at_ms: 1,
        }
    }

    #[tokio::test]
    async fn a_store_of_the_one_value_layout_is_split_on_open() {
        let directory = tempfile::tempdir().expect("tempdir");
        // A store as the one-value layout wrote it: status and body in one
        // JSON value, and no layout mark.
        let queued_text = "Đối thoại chính sách quốc phòng lần thứ 5";
        let done_html = "<p>Hội đàm</p>";
        let count = MIGRATION_BATCH as u64 + 3;
        {
            let db = sled::open(directory.path()).expect("sled");
            let articles = db.open_tree("articles").expect("tree");
            let queue = db.open_tree("queue").expect("tree");
            for id in 1..=count {
                let (state, content, is_html) = if id == 1 {
                    (ArticleState::Done, done_html, true)
                } else {
                    (ArticleState::Queued, queued_text, false)
                };
                let value = serde_json::json!({
                    "status": legacy_status(id, state),
                    "content": content,
                    "is_html": is_html,
                });
                articles
                    .insert(be(id), serde_json::to_vec(&value).expect("json"))
                    .expect("insert");
                if state == ArticleState::Queued {
                    queue
                        .insert(super::super::pair_key(1, id), &[])
                        .expect("queue");
                }
            }
            db.open_tree("meta")
                .expect("meta")
                .insert(super::super::META_NEXT_ARTICLE, &be(count + 1))
                .expect("next id");
            db.flush().expect("flush");
        }
        let store = Store::open(config(directory.path())).await.expect("open");
        assert_eq!(
            store.inner.trees.article_bodies.len(),
            count as usize,
            "every body moved, across more than one batch"
        );
        let done = store.article(ArticleId(1)).await.expect("status");
        assert_eq!(done.state, ArticleState::Done);
        assert_eq!(
            store.inner.article_body(ArticleId(1)).expect("body"),
            ArticleBody {
                content: done_html.into(),
                is_html: true
            }
        );
        let leased = store
            .lease(1, Duration::from_secs(60), Duration::ZERO)
            .await
            .expect("lease");
        assert_eq!(leased[0].job.text, queued_text);
        assert!(!leased[0].job.is_html);
        assert_eq!(
            store.article(ArticleId(2)).await.expect("status").state,
            ArticleState::Processing
        );
        // Nothing left to move, whether the mark is there or not.
        assert_eq!(store.inner.split_article_bodies().expect("again"), 0);
        store
            .inner
            .trees
            .meta
            .remove(META_ARTICLE_LAYOUT)
            .expect("unmark");
        assert_eq!(
            store.inner.split_article_bodies().expect("interrupted"),
            0,
            "split values are skipped"
        );
        store.close().await.expect("close");
    }

    /// The first segment of the text log of the store in `directory`.
    fn first_segment(directory: &std::path::Path) -> std::path::PathBuf {
        directory.join("texts").join("00000001.log")
    }

    /// Cuts the store's text log to `length` bytes: what a power loss leaves
    /// of writes that were not yet synced.
    fn cut_text_log(directory: &std::path::Path, length: u64) {
        std::fs::OpenOptions::new()
            .write(true)
            .open(first_segment(directory))
            .expect("open log")
            .set_len(length)
            .expect("truncate");
    }

    /// Snapshots `store` into a new directory; returns it and the snapshot's path.
    async fn snapshot_of(store: &Store) -> (tempfile::TempDir, std::path::PathBuf) {
        let copy = tempfile::tempdir().expect("tempdir");
        let destination = copy.path().join("snapshot");
        store.snapshot(destination.clone()).await.expect("snapshot");
        (copy, destination)
    }

    /// The articles of a 4-article write.
    fn four_texts(first: &str) -> Vec<String> {
        std::iter::once(first.to_string())
            .chain((2..=4).map(|index| format!("Hội đàm quốc phòng số {index}.")))
            .collect()
    }

    /// The bodies of a batch are appended to the text log (sled holds their
    /// references) and read back after a reopen; a lone submission keeps its
    /// body in sled; a snapshot copies the logged ones inline.
    #[tokio::test]
    async fn bodies_live_in_the_text_log_and_a_snapshot_holds_them_inline() {
        let directory = tempfile::tempdir().expect("tempdir");
        let text = "Đối thoại Chính sách quốc phòng Việt Nam – Ấn Độ lần thứ 14.";
        let texts = four_texts(text);
        let lone = "Đoàn đại biểu Bộ Quốc phòng thăm Lào.";
        {
            let store = Store::open(config(directory.path())).await.expect("open");
            let stored = store
                .enqueue_batch(
                    texts
                        .iter()
                        .map(|text| crate::store::tests::article(text, None))
                        .collect(),
                )
                .await
                .expect("enqueue");
            assert_eq!(stored.len(), 4);
            let lone_id = store
                .enqueue(crate::store::tests::article(lone, None))
                .await
                .expect("enqueue alone")
                .article_id;
            let value = |id: ArticleId| {
                store
                    .inner
                    .trees
                    .article_bodies
                    .get(be(id.0))
                    .expect("get")
                    .expect("value")
            };
            let logged = value(stored[0].article_id);
            assert_eq!(logged.first(), Some(&LOGGED_FLAG));
            assert_eq!(logged.len(), 1 + super::super::texts::TEXT_REF_BYTES);
            assert_eq!(value(lone_id).as_ref(), encode_body(lone, false).as_slice());
            store.close().await.expect("close");
        }
        let logged = std::fs::read(first_segment(directory.path())).expect("text log");
        let concatenated: Vec<u8> = texts
            .iter()
            .flat_map(|text| encode_body(text, false))
            .collect();
        assert_eq!(logged, concatenated);

        let store = Store::open(config(directory.path())).await.expect("reopen");
        let (_copy, destination) = snapshot_of(&store).await;
        let leased = store
            .lease(5, Duration::from_secs(60), Duration::ZERO)
            .await
            .expect("lease");
        let leased_texts: Vec<&str> = leased.iter().map(|lease| lease.job.text.as_str()).collect();
        assert_eq!(
            leased_texts,
            [&texts[0], &texts[1], &texts[2], &texts[3], lone]
        );
        store.close().await.expect("close");

        let restored = Store::open(config(&destination))
            .await
            .expect("open the copy");
        let value = restored
            .inner
            .trees
            .article_bodies
            .get(be(1))
            .expect("get")
            .expect("value");
        assert_eq!(value.as_ref(), encode_body(text, false).as_slice());
        let leased = restored
            .lease(1, Duration::from_secs(60), Duration::ZERO)
            .await
            .expect("lease the copy");
        assert_eq!(leased[0].job.text, text);
    }

    /// A power loss can keep sled's reference and lose the text behind it (a
    /// submission not yet acknowledged). The article is dead-lettered when
    /// leased, the other articles go on, and the same article submitted
    /// again is new.
    #[tokio::test]
    async fn a_text_the_log_lost_dead_letters_its_article_and_a_resubmission_is_new() {
        let directory = tempfile::tempdir().expect("tempdir");
        let kept = "Hội đàm Bộ trưởng Quốc phòng Việt Nam và Nhật Bản.";
        let lost = "Đối thoại Chiến lược quốc phòng Việt Nam – Australia lần thứ 5.";
        {
            let store = Store::open(config(directory.path())).await.expect("open");
            let texts = four_texts(kept);
            let mut articles: Vec<_> = texts
                .iter()
                .enumerate()
                .map(|(index, text)| {
                    crate::store::tests::article(text, Some(&format!("https://a.vn/{index}")))
                })
                .collect();
            articles[1] = crate::store::tests::article(lost, Some("https://a.vn/1"));
            store.enqueue_batch(articles).await.expect("enqueue");
            store.close().await.expect("close");
        }
        // The power went before the texts after the first reached the disk.
        cut_text_log(directory.path(), encode_body(kept, false).len() as u64);

        let store = Store::open(config(directory.path())).await.expect("reopen");
        let leased = store
            .lease(10, Duration::from_secs(60), Duration::ZERO)
            .await
            .expect("lease");
        assert_eq!(leased.len(), 1);
        assert_eq!(leased[0].job.text, kept);
        let status = store.article(ArticleId(2)).await.expect("status");
        assert_eq!(status.state, ArticleState::DeadLettered);
        let error = status.last_error.expect("error");
        assert!(error.contains("text lost"), "{error}");

        let again = store
            .enqueue(crate::store::tests::article(lost, Some("https://a.vn/1")))
            .await
            .expect("resubmit");
        assert!(again.created, "a lost article submitted again is new");
        assert_eq!(again.article_id, ArticleId(5));
        let duplicate = store
            .enqueue(crate::store::tests::article(kept, None))
            .await
            .expect("duplicate");
        assert_eq!(
            (duplicate.article_id, duplicate.created),
            (ArticleId(1), false)
        );
        let leased = store
            .lease(10, Duration::from_secs(60), Duration::ZERO)
            .await
            .expect("lease again");
        assert_eq!(leased.len(), 1);
        assert_eq!(leased[0].job.text, lost);
    }

    /// A completed article's cleaned text goes to the text log too; one the
    /// log lost is computed again from the body, and a snapshot holds it inline.
    #[tokio::test]
    async fn a_cleaned_text_is_logged_recomputed_when_lost_and_copied_inline() {
        let directory = tempfile::tempdir().expect("tempdir");
        let text = "Sáng 5/3, tại Hà Nội, Đối thoại Chính sách quốc phòng Việt Nam – Ấn Độ lần thứ 14 đã diễn ra.";
        let expected = super::super::records::clean_text(text, false, None);
        {
            let store = Store::open(config(directory.path())).await.expect("open");
            store
                .enqueue(crate::store::tests::article(text, None))
                .await
                .expect("enqueue");
            let leased = store
                .lease(1, Duration::from_secs(60), Duration::ZERO)
                .await
                .expect("lease");
            store
                .complete(
                    ArticleId(1),
                    &leased[0].job.lease_id,
                    crate::store::tests::dialogue("IN", Some(14), Some("2024-03-05")),
                )
                .await
                .expect("complete");
            let value = store
                .inner
                .trees
                .cleaned
                .get(be(1))
                .expect("get")
                .expect("value");
            assert_eq!(value.first(), Some(&CLEANED_LOGGED_FLAG));
            assert_eq!(
                store
                    .inner
                    .stored_cleaned_text(ArticleId(1))
                    .expect("cleaned"),
                expected
            );
            store.close().await.expect("close");
        }
        assert_eq!(
            std::fs::metadata(first_segment(directory.path()))
                .expect("log")
                .len(),
            expected.len() as u64,
            "the lone article's body is in sled, its cleaned text in the log"
        );
        // The power went before the cleaned text reached the disk.
        cut_text_log(directory.path(), 0);
        let store = Store::open(config(directory.path())).await.expect("reopen");
        assert_eq!(
            store
                .inner
                .stored_cleaned_text(ArticleId(1))
                .expect("recomputed"),
            expected
        );
        let (_copy, destination) = snapshot_of(&store).await;
        store.close().await.expect("close");
        let restored = Store::open(config(&destination))
            .await
            .expect("open the copy");
        let value = restored
            .inner
            .trees
            .cleaned
            .get(be(1))
            .expect("get")
            .expect("value");
        assert_eq!(value.as_ref(), expected.as_bytes());
    }
}
