//! gRPC handlers. Each converts its request at the edge, calls one store verb
//! in domain types, and converts the answer back.

use crate::auth::{Authorizer, Scope};
use crate::convert::MAX_SHORT_FIELD_BYTES;
use crate::domain::{ArticleId, DialogueFilter, NewArticle};
use crate::error::ApiError;
use crate::feed::{FeedSubscriptions, SubscriptionStream};
use crate::metrics::Metrics;
use crate::proto;
use crate::proto::admin_service_server::AdminService;
use crate::proto::encoded_feed::dialogue_service_server::DialogueService;
use crate::proto::unvalidated::article_service_server::ArticleService;
use crate::proto::worker_service_server::WorkerService;
use crate::store::{Store, BULK_CHUNK};
use dialogwatch_worker::record::Extraction;
use dialogwatch_worker::runner::Extract;
use std::sync::Arc;
use std::time::Duration;
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status, Streaming};

/// Limits enforced on requests.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest article body accepted, in bytes.
    pub max_article_bytes: usize,
    /// Largest gRPC message decoded (transport limit; larger messages get OUT_OF_RANGE
    /// from the transport before any handler runs). Keep it above `max_article_bytes`
    /// so that an oversized article gets RESOURCE_EXHAUSTED naming its field.
    pub max_message_bytes: usize,
    /// Largest number of items in one bulk submission.
    pub max_bulk_items: usize,
    /// Page size used when a request gives none.
    pub default_page_size: usize,
    /// Largest page size accepted.
    pub max_page_size: usize,
    /// Largest number of articles leased in one call.
    pub max_lease_batch: usize,
    /// Lease length when a worker asks for none.
    pub default_lease: Duration,
    /// Longest lease a worker may ask for.
    pub max_lease: Duration,
    /// Longest long-poll wait a worker may ask for.
    pub max_lease_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_article_bytes: 2 * 1024 * 1024,
            max_message_bytes: 2 * 1024 * 1024 + 1024 * 1024,
            max_bulk_items: 10_000,
            default_page_size: 50,
            max_page_size: 1000,
            max_lease_batch: 100,
            default_lease: Duration::from_secs(30),
            max_lease: Duration::from_secs(3600),
            max_lease_wait: Duration::from_secs(30),
        }
    }
}

impl Limits {
    /// Refuses an article body over the size limit.
    pub fn check_article(&self, article: &NewArticle) -> Result<(), ApiError> {
        if article.content.len() > self.max_article_bytes {
            return Err(ApiError::too_large(
                if article.is_html {
                    "article.html"
                } else {
                    "article.text"
                },
                format!(
                    "{} bytes, limit {}",
                    article.content.len(),
                    self.max_article_bytes
                ),
            ));
        }
        Ok(())
    }

    /// Validates a page size (0 means the default).
    pub fn page_size(&self, requested: i32) -> Result<usize, ApiError> {
        match usize::try_from(requested) {
            Err(_) => Err(ApiError::invalid("page_size", "must not be negative")),
            Ok(0) => Ok(self.default_page_size),
            Ok(size) if size > self.max_page_size => Err(ApiError::invalid(
                "page_size",
                format!("{size} exceeds the maximum {}", self.max_page_size),
            )),
            Ok(size) => Ok(size),
        }
    }

    fn lease_duration(&self, seconds: u32) -> Result<Duration, ApiError> {
        let requested = Duration::from_secs(u64::from(seconds));
        if seconds == 0 {
            return Ok(self.default_lease);
        }
        if requested > self.max_lease {
            return Err(ApiError::invalid(
                "lease_seconds",
                format!("{seconds} exceeds the maximum {}", self.max_lease.as_secs()),
            ));
        }
        Ok(requested)
    }
}

/// What every handler needs; cheap to clone.
#[derive(Clone)]
pub struct ApiContext {
    /// The store.
    pub store: Store,
    /// Request limits.
    pub limits: Limits,
    /// Token checks.
    pub authorizer: Authorizer,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The extraction engine (what `Reindex` runs over the stored articles).
    pub extractor: SharedExtractor,
    /// Held while a reindex runs (one at a time).
    pub reindexing: Arc<tokio::sync::Mutex<()>>,
}

/// An extraction engine shared by the in-process workers and `Reindex`.
#[derive(Clone)]
pub struct SharedExtractor(pub Arc<dyn Extract + Send + Sync>);

impl SharedExtractor {
    /// Wraps an engine.
    pub fn new(extractor: impl Extract + Send + Sync + 'static) -> Self {
        SharedExtractor(Arc::new(extractor))
    }
}

impl std::fmt::Debug for SharedExtractor {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SharedExtractor")
    }
}

/// Articles extracted per batch by `Reindex` (the writer lock is taken per article).
const REINDEX_BATCH: usize = 32;

fn parse_article_id(field: &str, text: &str) -> Result<ArticleId, ApiError> {
    text.parse::<ArticleId>()
        .map_err(|error| ApiError::invalid(field, error.to_string()))
}

fn required_id<'a>(field: &str, text: &'a str) -> Result<&'a str, ApiError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(ApiError::invalid(field, "required"));
    }
    if trimmed.len() > MAX_SHORT_FIELD_BYTES {
        return Err(ApiError::too_large(field, "id too long"));
    }
    Ok(trimmed)
}

/// `ArticleService`: submissions and article state. Implements the server
/// side of [`proto::unvalidated`], whose article bodies arrive as bytes and are
/// checked on conversion.
#[derive(Clone)]
pub struct ArticleApi {
    context: ApiContext,
}

impl ArticleApi {
    /// Handlers over `store`.
    pub fn new(context: ApiContext) -> Self {
        ArticleApi { context }
    }

    fn validate(
        &self,
        request: proto::unvalidated::SubmitArticleRequest,
    ) -> Result<NewArticle, ApiError> {
        let validated = NewArticle::try_from(request).and_then(|article| {
            self.context
                .limits
                .check_article(&article)
                .map(|()| article)
        });
        if validated.is_err() {
            Metrics::increment(&self.context.metrics.submitted_rejected);
        }
        validated
    }

    fn count_stored(&self, created: bool) {
        let metrics = &self.context.metrics;
        Metrics::increment(if created {
            &metrics.submitted_created
        } else {
            &metrics.submitted_duplicate
        });
    }
}

#[tonic::async_trait]
impl ArticleService for ArticleApi {
    async fn submit_article(
        &self,
        request: Request<proto::unvalidated::SubmitArticleRequest>,
    ) -> Result<Response<proto::SubmitArticleResponse>, Status> {
        self.context.authorizer.check(&request, Scope::Submit)?;
        let article = self.validate(request.into_inner())?;
        let outcome = self
            .context
            .store
            .enqueue(article)
            .await
            .map_err(ApiError::from)?;
        self.count_stored(outcome.created);
        tracing::info!(article_id = %outcome.article_id, created = outcome.created, "article submitted");
        Ok(Response::new(proto::SubmitArticleResponse {
            article_id: outcome.article_id.to_string(),
            created: outcome.created,
        }))
    }

    async fn submit_articles(
        &self,
        request: Request<Streaming<proto::unvalidated::SubmitArticleRequest>>,
    ) -> Result<Response<proto::SubmitArticlesResponse>, Status> {
        self.context.authorizer.check(&request, Scope::Submit)?;
        let mut stream = request.into_inner();
        // Parts are handed to the store as they fill, so their duplicate keys
        // are computed and written while the rest of the stream arrives.
        let mut bulk = self.context.store.bulk();
        let mut part = Vec::with_capacity(BULK_CHUNK);
        let mut valid_indexes = Vec::new();
        let mut results: Vec<Option<proto::SubmitArticleResult>> = Vec::new();
        while let Some(item) = stream.next().await {
            let item = item?;
            let index = results.len();
            if index >= self.context.limits.max_bulk_items {
                return Err(ApiError::too_large(
                    "requests",
                    format!(
                        "more than {} articles in one stream",
                        self.context.limits.max_bulk_items
                    ),
                )
                .into());
            }
            match self.validate(item) {
                Ok(article) => {
                    part.push(article);
                    if part.len() == BULK_CHUNK {
                        bulk.push(std::mem::replace(&mut part, Vec::with_capacity(BULK_CHUNK)));
                    }
                    valid_indexes.push(index);
                    results.push(None);
                }
                Err(error) => results.push(Some(proto::SubmitArticleResult {
                    index: index as u64,
                    outcome: Some(proto::submit_article_result::Outcome::Error(
                        proto::ItemError {
                            code: error.code() as i32,
                            field: error.field().to_string(),
                            message: error.to_string(),
                        },
                    )),
                })),
            }
        }
        bulk.push(part);
        let outcomes = bulk.finish().await.map_err(ApiError::from)?;
        for (index, outcome) in valid_indexes.into_iter().zip(outcomes) {
            self.count_stored(outcome.created);
            if let Some(slot) = results.get_mut(index) {
                *slot = Some(proto::SubmitArticleResult {
                    index: index as u64,
                    outcome: Some(proto::submit_article_result::Outcome::Accepted(
                        proto::SubmitArticleResponse {
                            article_id: outcome.article_id.to_string(),
                            created: outcome.created,
                        },
                    )),
                });
            }
        }
        tracing::info!(items = results.len(), "bulk submission stored");
        Ok(Response::new(proto::SubmitArticlesResponse {
            results: results.into_iter().flatten().collect(),
        }))
    }

    async fn get_article(
        &self,
        request: Request<proto::GetArticleRequest>,
    ) -> Result<Response<proto::Article>, Status> {
        self.context.authorizer.check(&request, Scope::Read)?;
        let request = request.into_inner();
        let id = parse_article_id(
            "article_id",
            required_id("article_id", &request.article_id)?,
        )?;
        let status = self
            .context
            .store
            .article(id)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(status.into()))
    }
}

/// `DialogueService`: records and the feed.
#[derive(Clone)]
pub struct DialogueApi {
    context: ApiContext,
    subscriptions: FeedSubscriptions,
}

impl DialogueApi {
    /// Handlers over `store`; subscriptions end when `subscriptions` is shut down.
    pub fn new(context: ApiContext, subscriptions: FeedSubscriptions) -> Self {
        DialogueApi {
            context,
            subscriptions,
        }
    }
}

#[tonic::async_trait]
impl DialogueService for DialogueApi {
    async fn get_dialogue(
        &self,
        request: Request<proto::GetDialogueRequest>,
    ) -> Result<Response<proto::DialogueRecord>, Status> {
        self.context.authorizer.check(&request, Scope::Read)?;
        let request = request.into_inner();
        let id = required_id("dialogue_id", &request.dialogue_id)?;
        let record = self
            .context
            .store
            .dialogue(id)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(record.into()))
    }

    async fn list_dialogues(
        &self,
        request: Request<proto::ListDialoguesRequest>,
    ) -> Result<Response<proto::ListDialoguesResponse>, Status> {
        self.context.authorizer.check(&request, Scope::Read)?;
        let request = request.into_inner();
        let page_size = self.context.limits.page_size(request.page_size)?;
        let filter = DialogueFilter::try_from(request.filter.unwrap_or_default())?;
        let order = crate::convert::parse_order(&request.order_by)?;
        let page_token = (!request.page_token.is_empty()).then_some(request.page_token);
        let page = self
            .context
            .store
            .list_dialogues(filter, order, page_size, page_token)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(proto::ListDialoguesResponse {
            dialogues: page.items.into_iter().map(Into::into).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn search_dialogues(
        &self,
        request: Request<proto::SearchDialoguesRequest>,
    ) -> Result<Response<proto::SearchDialoguesResponse>, Status> {
        self.context.authorizer.check(&request, Scope::Read)?;
        let request = request.into_inner();
        let page_size = self.context.limits.page_size(request.page_size)?;
        let clauses = crate::store::search::parse_query(&request.query)
            .map_err(|error| ApiError::invalid("query", error.to_string()))?;
        let filter = DialogueFilter::try_from(request.filter.unwrap_or_default())?;
        let page_token = (!request.page_token.is_empty()).then_some(request.page_token);
        let page = self
            .context
            .store
            .search_dialogues(clauses, filter, page_size, page_token)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(proto::SearchDialoguesResponse {
            hits: page.items.into_iter().map(Into::into).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn get_stats(
        &self,
        request: Request<proto::GetStatsRequest>,
    ) -> Result<Response<proto::GetStatsResponse>, Status> {
        self.context.authorizer.check(&request, Scope::Read)?;
        let request = request.into_inner();
        let partners = DialogueFilter::try_from(proto::DialogueFilter {
            partners: request.partners,
            ..Default::default()
        })
        .map_err(|error| ApiError::invalid("partners", error.to_string()))?
        .partners;
        let rows = self
            .context
            .store
            .stats(partners)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(proto::GetStatsResponse {
            rows: rows.into_iter().map(Into::into).collect(),
        }))
    }

    type WatchDialoguesStream = SubscriptionStream;

    async fn watch_dialogues(
        &self,
        request: Request<proto::WatchDialoguesRequest>,
    ) -> Result<Response<Self::WatchDialoguesStream>, Status> {
        self.context.authorizer.check(&request, Scope::Read)?;
        let request = request.into_inner();
        let filter = DialogueFilter::try_from(request.filter.unwrap_or_default())?;
        let head = self.context.store.feed_head();
        let from_sequence = if request.start_at_head {
            head
        } else {
            request.from_sequence
        };
        if from_sequence > head {
            return Err(ApiError::FailedPrecondition {
                field: "from_sequence".to_string(),
                description: format!(
                    "from_sequence {from_sequence} is beyond the feed head {head}"
                ),
            }
            .into());
        }
        let stream = self.subscriptions.subscribe(from_sequence, filter)?;
        Ok(Response::new(stream))
    }
}

/// `WorkerService`: the lease API of remote workers.
#[derive(Clone)]
pub struct WorkerApi {
    context: ApiContext,
}

impl WorkerApi {
    /// Handlers over `store`.
    pub fn new(context: ApiContext) -> Self {
        WorkerApi { context }
    }
}

#[tonic::async_trait]
impl WorkerService for WorkerApi {
    async fn lease_articles(
        &self,
        request: Request<proto::LeaseArticlesRequest>,
    ) -> Result<Response<proto::LeaseArticlesResponse>, Status> {
        self.context.authorizer.check(&request, Scope::Worker)?;
        let request = request.into_inner();
        let max_articles = usize::try_from(request.max_articles).unwrap_or(usize::MAX);
        if max_articles == 0 || max_articles > self.context.limits.max_lease_batch {
            return Err(ApiError::invalid(
                "max_articles",
                format!(
                    "must be between 1 and {}",
                    self.context.limits.max_lease_batch
                ),
            )
            .into());
        }
        let lease = self.context.limits.lease_duration(request.lease_seconds)?;
        let wait = Duration::from_millis(u64::from(request.wait_millis));
        if wait > self.context.limits.max_lease_wait {
            return Err(ApiError::invalid(
                "wait_millis",
                format!(
                    "exceeds the maximum {} ms",
                    self.context.limits.max_lease_wait.as_millis()
                ),
            )
            .into());
        }
        let leased = self
            .context
            .store
            .lease(max_articles, lease, wait)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(proto::LeaseArticlesResponse {
            articles: leased.into_iter().map(Into::into).collect(),
        }))
    }

    async fn complete_article(
        &self,
        request: Request<proto::CompleteArticleRequest>,
    ) -> Result<Response<proto::CompleteArticleResponse>, Status> {
        self.context.authorizer.check(&request, Scope::Worker)?;
        let request = request.into_inner();
        let article_id = parse_article_id("article_id", &request.article_id)?;
        let lease_id = required_id("lease_id", &request.lease_id)?;
        let extraction = Extraction::try_from(
            request
                .extraction
                .ok_or_else(|| ApiError::invalid("extraction", "required"))?,
        )?;
        let dialogue_ids = self
            .context
            .store
            .complete(article_id, lease_id, extraction)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(proto::CompleteArticleResponse {
            dialogue_ids,
        }))
    }

    async fn fail_article(
        &self,
        request: Request<proto::FailArticleRequest>,
    ) -> Result<Response<proto::FailArticleResponse>, Status> {
        self.context.authorizer.check(&request, Scope::Worker)?;
        let request = request.into_inner();
        let article_id = parse_article_id("article_id", &request.article_id)?;
        let lease_id = required_id("lease_id", &request.lease_id)?;
        let error: String = request.error.chars().take(4096).collect();
        let outcome = self
            .context
            .store
            .fail(article_id, lease_id, &error)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(proto::FailArticleResponse {
            dead_lettered: outcome.dead_lettered,
            retry_time: outcome.retry_at_ms.map(crate::convert::timestamp),
        }))
    }

    async fn extend_lease(
        &self,
        request: Request<proto::ExtendLeaseRequest>,
    ) -> Result<Response<proto::ExtendLeaseResponse>, Status> {
        self.context.authorizer.check(&request, Scope::Worker)?;
        let request = request.into_inner();
        let article_id = parse_article_id("article_id", &request.article_id)?;
        let lease_id = required_id("lease_id", &request.lease_id)?;
        let lease = self.context.limits.lease_duration(request.lease_seconds)?;
        let deadline = self
            .context
            .store
            .extend_lease(article_id, lease_id, lease)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(proto::ExtendLeaseResponse {
            lease_deadline: Some(crate::convert::timestamp(deadline)),
        }))
    }
}

/// `AdminService`: dead letters (the `admin` scope).
#[derive(Clone)]
pub struct AdminApi {
    context: ApiContext,
}

impl AdminApi {
    /// Handlers over the context's store.
    pub fn new(context: ApiContext) -> Self {
        AdminApi { context }
    }
}

#[tonic::async_trait]
impl AdminService for AdminApi {
    async fn list_dead_letters(
        &self,
        request: Request<proto::ListDeadLettersRequest>,
    ) -> Result<Response<proto::ListDeadLettersResponse>, Status> {
        self.context.authorizer.check(&request, Scope::Admin)?;
        let page_size = self.context.limits.page_size(request.get_ref().page_size)?;
        let articles = self
            .context
            .store
            .dead_letters(page_size)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(proto::ListDeadLettersResponse {
            articles: articles.into_iter().map(Into::into).collect(),
        }))
    }

    async fn retry_dead_letter(
        &self,
        request: Request<proto::RetryDeadLetterRequest>,
    ) -> Result<Response<proto::Article>, Status> {
        self.context.authorizer.check(&request, Scope::Admin)?;
        let article_id = parse_article_id(
            "article_id",
            required_id("article_id", &request.get_ref().article_id)?,
        )?;
        self.context
            .store
            .retry_dead_letter(article_id)
            .await
            .map_err(ApiError::from)?;
        let status = self
            .context
            .store
            .article(article_id)
            .await
            .map_err(ApiError::from)?;
        tracing::info!(article_id = %article_id, "dead letter requeued");
        Ok(Response::new(status.into()))
    }

    async fn snapshot(
        &self,
        request: Request<proto::SnapshotRequest>,
    ) -> Result<Response<proto::SnapshotResponse>, Status> {
        self.context.authorizer.check(&request, Scope::Admin)?;
        let path = required_id("path", &request.get_ref().path)?.to_string();
        let entries = self
            .context
            .store
            .snapshot(std::path::PathBuf::from(&path))
            .await
            .map_err(ApiError::from)?;
        tracing::info!(path, entries, "snapshot written");
        Ok(Response::new(proto::SnapshotResponse { path, entries }))
    }

    async fn reindex(
        &self,
        request: Request<proto::ReindexRequest>,
    ) -> Result<Response<proto::ReindexResponse>, Status> {
        self.context.authorizer.check(&request, Scope::Admin)?;
        let _running =
            self.context
                .reindexing
                .try_lock()
                .map_err(|_| ApiError::FailedPrecondition {
                    field: "reindex".to_string(),
                    description: "a reindex is already running".to_string(),
                })?;
        tracing::info!("reindex started");
        let outcome = self
            .context
            .store
            .reindex(Arc::clone(&self.context.extractor.0), REINDEX_BATCH)
            .await
            .map_err(ApiError::from)?;
        tracing::info!(?outcome, "reindex finished");
        let mut response = proto::ReindexResponse::from(outcome);
        response.feed_head = self.context.store.feed_head();
        Ok(Response::new(response))
    }
}
