//! The server: binds the gRPC services, health and reflection, starts the
//! in-process workers, and shuts everything down in order.

use crate::api::{
    AdminApi, ApiContext, ArticleApi, DialogueApi, Limits, SharedExtractor, WorkerApi,
};
use crate::auth::{AuthConfig, Authorizer};
use crate::feed::FeedSubscriptions;
use crate::metrics::{serve_http, HttpState, Metrics};
use crate::proto;
use crate::proto::admin_service_server::AdminServiceServer;
use crate::proto::encoded_feed::dialogue_service_server::DialogueServiceServer;
use crate::proto::unvalidated::article_service_server::ArticleServiceServer;
use crate::proto::worker_service_server::WorkerServiceServer;
use crate::store::{Store, StoreError};
use crate::workers::{spawn_in_process_workers, WorkerOptions};
use dialogwatch_worker::Extractor;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// In-process workers (0: only remote workers process articles).
    pub workers: usize,
    /// Worker tuning.
    pub worker_options: WorkerOptions,
    /// Request limits.
    pub limits: Limits,
    /// Concurrent WatchDialogues streams allowed.
    pub max_subscribers: usize,
    /// HTTP/2 keepalive ping interval (dead connections are closed).
    pub keepalive_interval: Duration,
    /// How long a keepalive ping may go unanswered before the connection is closed.
    pub keepalive_timeout: Duration,
    /// How long in-flight RPCs may take to finish after shutdown starts.
    pub shutdown_grace: Duration,
    /// Bearer tokens and their scopes (none: open).
    pub auth: AuthConfig,
    /// TLS (and mutual TLS) settings; `None` serves plaintext.
    pub tls: Option<ServerTls>,
    /// The extraction engine of the in-process workers and of `Reindex`
    /// (`None`: the standard [`Extractor`]).
    pub extractor: Option<SharedExtractor>,
}

/// PEM material for TLS.
#[derive(Clone)]
pub struct ServerTls {
    /// The server's certificate chain.
    pub certificate_pem: Vec<u8>,
    /// The server's private key.
    pub private_key_pem: Vec<u8>,
    /// When set, clients must present a certificate signed by this CA (mutual TLS).
    pub client_ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ServerTls")
            .field("mutual", &self.client_ca_pem.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            workers: std::thread::available_parallelism().map_or(2, usize::from),
            worker_options: WorkerOptions::default(),
            limits: Limits::default(),
            max_subscribers: 1024,
            keepalive_interval: Duration::from_secs(30),
            keepalive_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            auth: AuthConfig::open(),
            tls: None,
            extractor: None,
        }
    }
}

/// Why the server stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The transport failed.
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// Reflection could not be built from the descriptor set.
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The store failed to close cleanly.
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// Serves on `listener` until `shutdown` completes, then stops in order:
/// stop accepting, end feed streams with UNAVAILABLE, let in-flight RPCs
/// finish (bounded), stop the workers, report NOT_SERVING, close the store.
pub async fn run(
    listener: TcpListener,
    store: Store,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    run_with_metrics(listener, None, store, config, shutdown).await
}

/// [`run`], plus the operator endpoints (`/metrics`, `/healthz`, `/readyz`)
/// on `metrics_listener` when given.
pub async fn run_with_metrics(
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    store: Store,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    store.encode_feed_with(crate::feed::wire_encoder());
    let stop = CancellationToken::new();
    let metrics = Arc::new(Metrics::default());
    let http_stop = CancellationToken::new();
    let http_task = metrics_listener.map(|metrics_listener| {
        let gauges_store = store.clone();
        let state = HttpState {
            metrics: Arc::clone(&metrics),
            gauges: Arc::new(move || {
                let store = gauges_store.clone();
                Box::pin(async move { store.gauges().await.ok() })
            }),
            stopping: stop.clone(),
        };
        tokio::spawn(serve_http(metrics_listener, state, http_stop.clone()))
    });
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<ArticleServiceServer<ArticleApi>>()
        .await;
    health_reporter
        .set_serving::<DialogueServiceServer<DialogueApi>>()
        .await;
    health_reporter
        .set_serving::<WorkerServiceServer<WorkerApi>>()
        .await;
    health_reporter
        .set_serving::<AdminServiceServer<AdminApi>>()
        .await;
    health_reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;

    let subscriptions = FeedSubscriptions::new(
        store.clone(),
        config.max_subscribers,
        stop.clone(),
        Arc::clone(&metrics),
    );
    let extractor = config
        .extractor
        .clone()
        .unwrap_or_else(|| SharedExtractor::new(Extractor::new()));
    let workers = spawn_in_process_workers(
        config.workers,
        &store,
        &extractor.0,
        &stop,
        &config.worker_options,
        &metrics,
    );
    let local_address = listener.local_addr().ok();
    tracing::info!(
        address = ?local_address,
        workers = config.workers,
        tls = config.tls.is_some(),
        auth = ?config.auth,
        "serving"
    );

    let stop_on_signal = stop.clone();
    let reporter_on_signal = health_reporter.clone();
    let graceful = async move {
        shutdown.await;
        tracing::info!("shutdown requested");
        set_not_serving(&reporter_on_signal).await;
        stop_on_signal.cancel();
    };
    let max_message = config.limits.max_message_bytes;
    let context = ApiContext {
        store: store.clone(),
        limits: config.limits.clone(),
        authorizer: Authorizer::new(config.auth.clone()),
        metrics: Arc::clone(&metrics),
        extractor,
        reindexing: Arc::new(tokio::sync::Mutex::new(())),
    };
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = &config.tls {
        let mut tls_config = tonic::transport::ServerTlsConfig::new().identity(
            tonic::transport::Identity::from_pem(&tls.certificate_pem, &tls.private_key_pem),
        );
        if let Some(client_ca) = &tls.client_ca_pem {
            tls_config =
                tls_config.client_ca_root(tonic::transport::Certificate::from_pem(client_ca));
        }
        builder = builder.tls_config(tls_config)?;
    }
    let router = builder
        .trace_fn(|request| {
            tracing::info_span!(
                "grpc",
                otel.name = %request.uri().path(),
                otel.kind = "server",
                rpc.system = "grpc"
            )
        })
        .http2_keepalive_interval(Some(config.keepalive_interval))
        .http2_keepalive_timeout(Some(config.keepalive_timeout))
        .add_service(health_service)
        .add_service(reflection)
        .add_service(
            ArticleServiceServer::new(ArticleApi::new(context.clone()))
                .max_decoding_message_size(max_message),
        )
        .add_service(
            DialogueServiceServer::new(DialogueApi::new(context.clone(), subscriptions.clone()))
                .max_decoding_message_size(max_message),
        )
        .add_service(
            WorkerServiceServer::new(WorkerApi::new(context.clone()))
                .max_decoding_message_size(max_message),
        )
        .add_service(
            AdminServiceServer::new(AdminApi::new(context)).max_decoding_message_size(max_message),
        );
    // Without TCP_NODELAY a small response waits for the client's delayed ACK
    // (~40 ms per call when paging). The writes of a connection are
    // coalesced: h2 writes each streamed message on its own otherwise.
    let incoming = tokio_stream::StreamExt::map(TcpListenerStream::new(listener), |stream| {
        stream.map(|stream| {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "TCP_NODELAY not set");
            }
            crate::coalesce::CoalescedWrites::new(stream)
        })
    });
    let serving = router.serve_with_incoming_shutdown(incoming, graceful);
    tokio::pin!(serving);
    let served = tokio::select! {
        served = &mut serving => served,
        () = async {
            stop.cancelled().await;
            tokio::time::sleep(config.shutdown_grace).await;
        } => {
            tracing::warn!("in-flight requests did not finish within the grace period");
            Ok(())
        }
    };
    stop.cancel();
    subscriptions.wait_closed().await;
    for worker in workers {
        match worker.await {
            Ok(Ok(stats)) => tracing::debug!(?stats, "worker stopped"),
            Ok(Err(error)) => tracing::error!(%error, "worker failed"),
            Err(error) => tracing::error!(%error, "worker task failed"),
        }
    }
    match store.release_leases().await {
        Ok(0) => {}
        Ok(released) => tracing::info!(released, "leases handed back to the queue"),
        Err(error) => tracing::warn!(%error, "could not hand back the held leases"),
    }
    set_not_serving(&health_reporter).await;
    store.close().await?;
    http_stop.cancel();
    if let Some(http_task) = http_task {
        let _ = http_task.await;
    }
    tracing::info!("stopped");
    served.map_err(ServerError::from)
}

/// Reports NOT_SERVING for the server and every service (probes stop routing here).
async fn set_not_serving(reporter: &tonic_health::server::HealthReporter) {
    reporter
        .set_service_status("", tonic_health::ServingStatus::NotServing)
        .await;
    reporter
        .set_not_serving::<ArticleServiceServer<ArticleApi>>()
        .await;
    reporter
        .set_not_serving::<DialogueServiceServer<DialogueApi>>()
        .await;
    reporter
        .set_not_serving::<WorkerServiceServer<WorkerApi>>()
        .await;
    reporter
        .set_not_serving::<AdminServiceServer<AdminApi>>()
        .await;
}
