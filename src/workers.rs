//! The two job sources the worker loop runs over: the server's own queue
//! (in-process workers) and the gRPC lease API (remote workers). Both run
//! the synchronous loop of `dialogwatch_worker::runner` on blocking threads.

use crate::client::AuthedChannel;
use crate::domain::ArticleId;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::proto;
use crate::proto::worker_service_client::WorkerServiceClient;
use crate::store::{Store, StoreError};
use dialogwatch_worker::record::Extraction;
use dialogwatch_worker::runner::{run_worker, Extract, Job, JobSource, WorkerStats};
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

/// How long one lease call waits for work before the loop checks for shutdown.
const LEASE_WAIT: Duration = Duration::from_secs(1);

/// Tuning shared by both sources.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Articles leased per call.
    pub batch_size: usize,
    /// Lease length asked for.
    pub lease_duration: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            batch_size: 4,
            lease_duration: Duration::from_secs(30),
        }
    }
}

/// Failures that stop a worker loop.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The store failed in a way retrying will not fix.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The server refused a request in a way retrying will not fix.
    #[error("server: {0}")]
    Server(String),
}

/// The server's queue as a job source.
pub struct InProcessSource {
    store: Store,
    runtime: Handle,
    shutdown: CancellationToken,
    options: WorkerOptions,
    metrics: Arc<Metrics>,
}

impl InProcessSource {
    /// A source over `store`, driving its async verbs on `runtime`.
    pub fn new(
        store: Store,
        runtime: Handle,
        shutdown: CancellationToken,
        options: WorkerOptions,
        metrics: Arc<Metrics>,
    ) -> Self {
        InProcessSource {
            store,
            runtime,
            shutdown,
            options,
            metrics,
        }
    }

    /// Ids in the store's form; a job always carries one the store issued.
    fn article_id(job: &Job) -> Result<ArticleId, WorkerError> {
        job.article_id
            .parse()
            .map_err(|error: crate::domain::MalformedArticleId| {
                WorkerError::Server(error.to_string())
            })
    }
}

impl JobSource for InProcessSource {
    type Error = WorkerError;

    fn lease(&mut self, max_jobs: usize) -> Result<Vec<Job>, WorkerError> {
        let leased = self.runtime.block_on(async {
            tokio::select! {
                leased = self.store.lease(max_jobs, self.options.lease_duration, LEASE_WAIT) => leased,
                () = self.shutdown.cancelled() => Ok(Vec::new()),
            }
        });
        match leased {
            Ok(articles) => Ok(articles.into_iter().map(|leased| leased.job).collect()),
            Err(StoreError::Closed) => Ok(Vec::new()),
            Err(error) => Err(error.into()),
        }
    }

    fn complete(&mut self, job: &Job, extraction: Extraction) -> Result<(), WorkerError> {
        self.complete_with_text(job, extraction, None)
    }

    fn complete_with_text(
        &mut self,
        job: &Job,
        extraction: Extraction,
        cleaned_text: Option<String>,
    ) -> Result<(), WorkerError> {
        let article_id = Self::article_id(job)?;
        match self.store.complete_without_waiting_for_disk(
            &self.runtime,
            article_id,
            &job.lease_id,
            extraction,
            cleaned_text,
        ) {
            Ok(dialogue_ids) => {
                tracing::info!(article_id = %job.article_id, ?dialogue_ids, "article processed");
                Ok(())
            }
            Err(error @ StoreError::LeaseNotHeld { .. }) => {
                tracing::warn!(article_id = %job.article_id, %error, "result dropped: lease lost");
                Ok(())
            }
            Err(StoreError::Closed) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    fn fail(&mut self, job: &Job, error: &str) -> Result<(), WorkerError> {
        let article_id = Self::article_id(job)?;
        match self
            .runtime
            .block_on(self.store.fail(article_id, &job.lease_id, error))
        {
            Ok(outcome) => {
                tracing::warn!(article_id = %job.article_id, error, dead_lettered = outcome.dead_lettered, "article failed");
                Ok(())
            }
            Err(StoreError::LeaseNotHeld { .. } | StoreError::Closed) => Ok(()),
            Err(store_error) => Err(store_error.into()),
        }
    }

    fn should_stop(&self) -> bool {
        self.shutdown.is_cancelled()
    }

    fn extraction_finished(&mut self, _job: &Job, elapsed: Duration) {
        self.metrics.extraction_latency.observe(elapsed);
    }
}

/// Starts `count` in-process workers on the blocking pool.
pub fn spawn_in_process_workers(
    count: usize,
    store: &Store,
    extractor: &Arc<dyn Extract + Send + Sync>,
    shutdown: &CancellationToken,
    options: &WorkerOptions,
    metrics: &Arc<Metrics>,
) -> Vec<tokio::task::JoinHandle<Result<WorkerStats, WorkerError>>> {
    (0..count)
        .map(|_| {
            let mut source = InProcessSource::new(
                store.clone(),
                Handle::current(),
                shutdown.clone(),
                options.clone(),
                Arc::clone(metrics),
            );
            let extractor = Arc::clone(extractor);
            let batch_size = options.batch_size;
            tokio::task::spawn_blocking(move || {
                run_worker(&mut source, extractor.as_ref(), batch_size)
            })
        })
        .collect()
}

/// The gRPC lease API as a job source (`dialogwatch worker --server URL`).
pub struct GrpcSource {
    client: WorkerServiceClient<AuthedChannel>,
    runtime: Handle,
    shutdown: CancellationToken,
    options: WorkerOptions,
    worker_id: String,
    reconnect_delay: Duration,
}

/// Longest pause between attempts to reach an unavailable server.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(5);

impl GrpcSource {
    /// A source leasing from the server behind `channel`.
    pub fn new(
        channel: AuthedChannel,
        runtime: Handle,
        shutdown: CancellationToken,
        options: WorkerOptions,
        worker_id: String,
    ) -> Self {
        GrpcSource {
            client: WorkerServiceClient::new(channel),
            runtime,
            shutdown,
            options,
            worker_id,
            reconnect_delay: Duration::from_millis(100),
        }
    }

    /// Waits before retrying an unavailable server (interrupted by shutdown), doubling the pause.
    fn back_off(&mut self) {
        let delay = self.reconnect_delay;
        self.reconnect_delay = (delay * 2).min(MAX_RECONNECT_DELAY);
        let shutdown = self.shutdown.clone();
        self.runtime.block_on(async {
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = shutdown.cancelled() => {}
            }
        });
    }

    /// Runs one call, retrying while the server is unreachable; `None` on shutdown.
    fn call_with_retry<Response, Call, CallFuture>(
        &mut self,
        mut call: Call,
    ) -> Result<Option<Response>, WorkerError>
    where
        Call: FnMut(WorkerServiceClient<AuthedChannel>) -> CallFuture,
        CallFuture: std::future::Future<Output = Result<tonic::Response<Response>, tonic::Status>>,
    {
        loop {
            if self.shutdown.is_cancelled() {
                return Ok(None);
            }
            let client = self.client.clone();
            let shutdown = self.shutdown.clone();
            let outcome = self.runtime.block_on(async {
                tokio::select! {
                    outcome = call(client) => Some(outcome),
                    () = shutdown.cancelled() => None,
                }
            });
            match outcome {
                None => return Ok(None),
                Some(Ok(response)) => {
                    self.reconnect_delay = Duration::from_millis(100);
                    return Ok(Some(response.into_inner()));
                }
                Some(Err(status)) if worth_retrying(&status) => {
                    tracing::warn!(code = ?status.code(), message = status.message(), "server unavailable; retrying");
                    self.back_off();
                }
                Some(Err(status)) => return Err(WorkerError::Server(status.to_string())),
            }
        }
    }
}

/// True when a failed call may succeed if made again: the server was
/// unreachable or restarting, or the call failed in the connection before
/// the server answered it.
fn worth_retrying(status: &tonic::Status) -> bool {
    let unavailable = matches!(
        status.code(),
        tonic::Code::Unavailable
            | tonic::Code::Unknown
            | tonic::Code::DeadlineExceeded
            // The connection closed under the call (a server restarting);
            // this worker cancels only on shutdown, which the caller checks first.
            | tonic::Code::Cancelled
    );
    unavailable || failed_in_transport(status)
}

/// True when the status was made by this client's transport rather than sent
/// by the server: the call never got an answer. A request sent on a
/// connection the server is closing (its HTTP/2 GOAWAY crossing the request)
/// ends so, coded `Internal`, and was not processed, so it is safe to retry.
fn failed_in_transport(status: &tonic::Status) -> bool {
    let mut source = std::error::Error::source(status);
    while let Some(error) = source {
        if error.is::<tonic::transport::Error>() {
            return true;
        }
        source = error.source();
    }
    false
}

impl JobSource for GrpcSource {
    type Error = WorkerError;

    fn lease(&mut self, max_jobs: usize) -> Result<Vec<Job>, WorkerError> {
        let request = proto::LeaseArticlesRequest {
            worker_id: self.worker_id.clone(),
            max_articles: u32::try_from(max_jobs).unwrap_or(u32::MAX),
            lease_seconds: u32::try_from(self.options.lease_duration.as_secs()).unwrap_or(u32::MAX),
            wait_millis: u32::try_from(LEASE_WAIT.as_millis()).unwrap_or(u32::MAX),
        };
        let response = self.call_with_retry(|mut client| {
            let request = request.clone();
            async move { client.lease_articles(request).await }
        })?;
        let Some(response) = response else {
            return Ok(Vec::new());
        };
        response
            .articles
            .into_iter()
            .map(|leased| {
                Job::try_from(leased)
                    .map_err(|error: ApiError| WorkerError::Server(error.to_string()))
            })
            .collect()
    }

    fn complete(&mut self, job: &Job, extraction: Extraction) -> Result<(), WorkerError> {
        let request = proto::CompleteArticleRequest {
            article_id: job.article_id.clone(),
            lease_id: job.lease_id.clone(),
            extraction: Some(extraction.into()),
        };
        let outcome = self.call_with_retry(|mut client| {
            let request = request.clone();
            async move { client.complete_article(request).await }
        });
        match outcome {
            Ok(_) => Ok(()),
            Err(WorkerError::Server(message)) => {
                // A lost lease or a refused result concerns this article only.
                tracing::warn!(article_id = %job.article_id, message, "result refused");
                Ok(())
            }
            Err(error) => Err(error),
        }
    }

    fn fail(&mut self, job: &Job, error: &str) -> Result<(), WorkerError> {
        let request = proto::FailArticleRequest {
            article_id: job.article_id.clone(),
            lease_id: job.lease_id.clone(),
            error: error.to_string(),
        };
        let outcome = self.call_with_retry(|mut client| {
            let request = request.clone();
            async move { client.fail_article(request).await }
        });
        match outcome {
            Ok(_) => Ok(()),
            Err(WorkerError::Server(message)) => {
                tracing::warn!(article_id = %job.article_id, message, "failure report refused");
                Ok(())
            }
            Err(other) => Err(other),
        }
    }

    fn should_stop(&self) -> bool {
        self.shutdown.is_cancelled()
    }
}

/// Runs `count` remote workers against the server at `channel` until `shutdown`.
pub async fn run_remote_workers<E: Extract + Send + Sync + 'static>(
    channel: AuthedChannel,
    count: usize,
    options: WorkerOptions,
    shutdown: CancellationToken,
    extractor: Arc<E>,
) -> Result<WorkerStats, WorkerError> {
    let mut handles = Vec::with_capacity(count);
    for index in 0..count {
        let mut source = GrpcSource::new(
            channel.clone(),
            Handle::current(),
            shutdown.clone(),
            options.clone(),
            format!("{}-{index}", std::process::id()),
        );
        let extractor = Arc::clone(&extractor);
        let batch_size = options.batch_size;
        let stop_the_others = shutdown.clone();
        handles.push(tokio::task::spawn_blocking(move || {
            let outcome = run_worker(&mut source, extractor.as_ref(), batch_size);
            if let Err(error) = &outcome {
                tracing::error!(%error, "worker stopped on an error; stopping the others");
                stop_the_others.cancel();
            }
            outcome
        }));
    }
    // Every thread is awaited, even after one failed (it stopped the
    // others): the runtime must not shut down under threads still calling
    // into it.
    let mut total = WorkerStats::default();
    let mut first_error = None;
    for handle in handles {
        let outcome = handle
            .await
            .map_err(|error| WorkerError::Server(format!("worker thread failed: {error}")))
            .and_then(|outcome| outcome);
        match outcome {
            Ok(stats) => {
                total.completed += stats.completed;
                total.failed += stats.failed;
            }
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    match first_error {
        Some(error) => Err(error),
        None => Ok(total),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_call_that_failed_in_the_connection_is_retried_and_a_refusal_is_not() {
        // A real transport error: nothing listens on port 1.
        let transport_error = tonic::transport::Endpoint::from_static("http://127.0.0.1:1")
            .connect()
            .await
            .expect_err("nothing listens on port 1");
        // As a request crossing the server's GOAWAY ends: Internal, with the
        // transport error as its source.
        let mut goaway = tonic::Status::internal("h2 protocol error: http2 error");
        goaway.set_source(Arc::new(transport_error));
        assert!(worth_retrying(&goaway));
        assert!(worth_retrying(&tonic::Status::unavailable("restarting")));
        assert!(!worth_retrying(&tonic::Status::internal(
            "store: disk full"
        )));
        assert!(!worth_retrying(&tonic::Status::failed_precondition(
            "lease not held"
        )));
        assert!(!worth_retrying(&tonic::Status::permission_denied("scope")));
    }
}
