//! Starting and stopping a real server on 127.0.0.1:0 over a data dir.

use dialogwatch::proto;
use dialogwatch::proto::article_service_client::ArticleServiceClient;
use dialogwatch::proto::dialogue_service_client::DialogueServiceClient;
use dialogwatch::proto::worker_service_client::WorkerServiceClient;
use dialogwatch::server::ServerError;
use dialogwatch::{ServerConfig, Store, StoreConfig};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// Upper bound on any wait in these tests: a safety net against hangs, not a timing assertion.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Store settings for tests: short leases and backoff so faults play out quickly.
pub fn store_config(data_dir: &Path) -> StoreConfig {
    StoreConfig {
        path: data_dir.to_path_buf(),
        lease_duration: Duration::from_secs(30),
        max_attempts: 3,
        retry_backoff: Duration::from_millis(10),
        max_retry_backoff: Duration::from_millis(100),
        cache_bytes: StoreConfig::DEFAULT_CACHE_BYTES,
    }
}

/// A server running in this process.
pub struct TestServer {
    pub address: SocketAddr,
    /// Where /metrics, /healthz and /readyz are served, when started with them.
    pub metrics_address: Option<SocketAddr>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<(), ServerError>>>,
}

impl TestServer {
    /// Starts a server with `workers` in-process workers.
    pub async fn start(data_dir: &Path, workers: usize) -> TestServer {
        Self::start_at(data_dir, workers, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a server with `workers` in-process workers on `address` (to
    /// restart one where its clients expect it).
    pub async fn start_at(data_dir: &Path, workers: usize, address: SocketAddr) -> TestServer {
        let config = ServerConfig {
            workers,
            ..ServerConfig::default()
        };
        Self::launch_on(store_config(data_dir), config, false, address).await
    }

    /// Starts a server with explicit settings.
    pub async fn start_with(store_config: StoreConfig, config: ServerConfig) -> TestServer {
        Self::launch(store_config, config, false).await
    }

    /// Starts a server that also serves the operator HTTP endpoints.
    pub async fn start_with_metrics(store_config: StoreConfig, config: ServerConfig) -> TestServer {
        Self::launch(store_config, config, true).await
    }

    async fn launch(
        store_config: StoreConfig,
        config: ServerConfig,
        with_metrics: bool,
    ) -> TestServer {
        let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::launch_on(store_config, config, with_metrics, any_port).await
    }

    async fn launch_on(
        store_config: StoreConfig,
        config: ServerConfig,
        with_metrics: bool,
        address: SocketAddr,
    ) -> TestServer {
        let store = Store::open(store_config).await.expect("open store");
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .expect("bind loopback");
        let address = listener.local_addr().expect("local address");
        let metrics_listener = if with_metrics {
            Some(
                tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind metrics"),
            )
        } else {
            None
        };
        let metrics_address = metrics_listener
            .as_ref()
            .map(|listener| listener.local_addr().expect("metrics address"));
        let (shutdown, shutdown_signal) = oneshot::channel::<()>();
        let handle = tokio::spawn(dialogwatch::run_with_metrics(
            listener,
            metrics_listener,
            store,
            config,
            async move {
                let _ = shutdown_signal.await;
            },
        ));
        TestServer {
            address,
            metrics_address,
            shutdown: Some(shutdown),
            handle: Some(handle),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub async fn channel(&self) -> Channel {
        tonic::transport::Endpoint::from_shared(self.url())
            .expect("endpoint")
            .connect()
            .await
            .expect("connect to test server")
    }

    pub async fn articles(&self) -> ArticleServiceClient<Channel> {
        ArticleServiceClient::new(self.channel().await)
    }

    pub async fn dialogues(&self) -> DialogueServiceClient<Channel> {
        DialogueServiceClient::new(self.channel().await)
    }

    pub async fn workers(&self) -> WorkerServiceClient<Channel> {
        WorkerServiceClient::new(self.channel().await)
    }

    /// Graceful shutdown; returns once the store is closed.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(handle) = self.handle.take() {
            let result = tokio::time::timeout(PATIENCE, handle)
                .await
                .expect("server stops in time")
                .expect("server task");
            result.expect("server ran cleanly");
        }
    }
}

/// The dev corpus articles: (file name, text, gold JSON).
pub fn dev_corpus() -> Vec<(String, String, serde_json::Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/dev");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "txt"))
        .collect();
    entries.sort();
    entries
        .into_iter()
        .map(|path| {
            let name = path
                .file_name()
                .and_then(|name| name.to_str())
                .unwrap_or_default()
                .to_string();
            let text = std::fs::read_to_string(&path).expect("read article");
            let gold_path = path.with_extension("gold.json");
            let gold =
                serde_json::from_str(&std::fs::read_to_string(gold_path).expect("read gold"))
                    .expect("parse gold");
            (name, text, gold)
        })
        .collect()
}

/// A plain-text submission.
pub fn text_request(text: &str, url: Option<&str>) -> proto::SubmitArticleRequest {
    proto::SubmitArticleRequest {
        request_id: String::new(),
        article: Some(proto::ArticleContent {
            body: Some(proto::article_content::Body::Text(text.to_string())),
            url: url.map(str::to_string),
            outlet: None,
            published_at: None,
            title: None,
        }),
    }
}

/// Polls GetArticle until the article leaves the queue (done or dead-lettered).
pub async fn wait_until_settled(
    client: &mut ArticleServiceClient<Channel>,
    article_id: &str,
) -> proto::Article {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let article = client
            .get_article(proto::GetArticleRequest {
                article_id: article_id.to_string(),
            })
            .await
            .expect("get article")
            .into_inner();
        let state = article.state();
        if state == proto::ArticleState::Done || state == proto::ArticleState::DeadLettered {
            return article;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "article {article_id} still {state:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads `count` feed events from a stream (bounded by PATIENCE).
pub async fn take_events(
    stream: &mut tonic::Streaming<proto::FeedEvent>,
    count: usize,
) -> Vec<proto::FeedEvent> {
    let mut events = Vec::with_capacity(count);
    while events.len() < count {
        let next = tokio::time::timeout(PATIENCE, stream.message())
            .await
            .unwrap_or_else(|_| panic!("only {} of {count} events arrived", events.len()))
            .expect("stream item")
            .expect("stream still open");
        events.push(next);
    }
    events
}

/// A worker-made extraction of one policy dialogue with `partner` (ISO code), edition `edition`.
/// Used where a test needs records without depending on the extractor's rules.
pub fn synthetic_extraction(partner: &str, edition: u32) -> proto::Extraction {
    proto::Extraction {
        is_dialogue: true,
        source_url: None,
        reason: None,
        events: vec![proto::DialogueEvent {
            primary: true,
            kind: proto::DialogueKind::PolicyDialogue as i32,
            partner: Some(proto::Partner {
                code: partner.to_string(),
                name_vi: partner.to_string(),
                name_en: partner.to_string(),
            }),
            edition: Some(edition),
            location: Some(proto::Location::default()),
            ..Default::default()
        }],
    }
}

/// Acts as a remote worker over the real lease API: leases and completes
/// `count` articles, each with a distinct synthetic extraction (edition = order of completion + offset).
pub async fn complete_synthetically(
    server: &TestServer,
    count: usize,
    partner: &str,
    first_edition: u32,
) {
    let mut workers = server.workers().await;
    let mut done = 0usize;
    while done < count {
        let leased = workers
            .lease_articles(proto::LeaseArticlesRequest {
                worker_id: "synthetic".to_string(),
                max_articles: 100,
                lease_seconds: 60,
                wait_millis: 5_000,
            })
            .await
            .expect("lease")
            .into_inner()
            .articles;
        assert!(
            !leased.is_empty(),
            "work was queued: {done} of {count} done"
        );
        for article in leased {
            let edition = first_edition + u32::try_from(done).unwrap_or(u32::MAX);
            workers
                .complete_article(proto::CompleteArticleRequest {
                    article_id: article.article_id,
                    lease_id: article.lease_id,
                    extraction: Some(synthetic_extraction(partner, edition)),
                })
                .await
                .expect("complete");
            done += 1;
        }
    }
}

/// `count` distinct plain-text submissions.
pub fn distinct_requests(count: usize, tag: &str) -> Vec<proto::SubmitArticleRequest> {
    (0..count)
        .map(|index| {
            text_request(
                &format!("Bài số {index} ({tag}): hội đàm quốc phòng."),
                None,
            )
        })
        .collect()
}
