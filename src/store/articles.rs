//! Articles as stored: the status (`articles`, small JSON, rewritten by every
//! lease, completion and failure) apart from the body (`article_bodies`,
//! written once at submission and never again).
//!
//! A body is one flag byte (`T` text, `H` HTML) then the text as UTF-8, so
//! reading it copies and checks the bytes and parses nothing. Keeping the
//! two together meant every lease and completion decoded, re-encoded and
//! rewrote the whole text (about 6 KB of JSON for a typical article).
//!
//! Stores of before this layout kept both in one JSON value in `articles`;
//! [`Inner::split_article_bodies`] moves their bodies out on open.

use super::{be, decode, encode, Inner, StoreError};
use crate::domain::{ArticleId, ArticleStatus};
use serde::Deserialize;
use sled::transaction::ConflictableTransactionError;
use sled::Transactional;

/// The layout of the article trees (absent: status and body in one value).
const META_ARTICLE_LAYOUT: &[u8] = b"article_layout";
const STATUS_APART_FROM_BODY: &[u8] = b"status-apart-from-body";
/// Articles moved per transaction by the migration.
const MIGRATION_BATCH: usize = 512;

const TEXT_FLAG: u8 = b'T';
const HTML_FLAG: u8 = b'H';

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

    /// An article's body.
    pub(super) fn article_body(&self, id: ArticleId) -> Result<ArticleBody, StoreError> {
        match self.trees.article_bodies.get(be(id.0))? {
            Some(bytes) => decode_body(&bytes),
            None => Err(article_not_found(id)),
        }
    }

    /// Moves the bodies of a store of the one-value layout into
    /// `article_bodies`, [`MIGRATION_BATCH`] articles per transaction, then
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
            let trees = &self.trees;
            (&trees.articles, &trees.article_bodies).transaction(|(articles, bodies)| {
                for (key, status, body) in &batch {
                    articles.insert(key, status.as_slice())?;
                    bodies.insert(key, body.as_slice())?;
                }
                Ok::<(), ConflictableTransactionError<StoreError>>(())
            })?;
            moved += batch.len() as u64;
            after = Some(last);
        }
        meta.insert(META_ARTICLE_LAYOUT, STATUS_APART_FROM_BODY)?;
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
}
