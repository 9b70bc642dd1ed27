//! OTLP trace export from the real binary into a collector run by the test,
//! and a clean exit on SIGTERM.

use crate::common::{dev_corpus, text_request, wait_until_settled, PATIENCE};
use dialogwatch::proto;
use dialogwatch::proto::article_service_client::ArticleServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// (span name, attributes as strings) of every span received.
type Received = Arc<Mutex<Vec<(String, Vec<(String, String)>)>>>;

struct Collector(Received);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut received = self
            .0
            .lock()
            .map_err(|_| tonic::Status::internal("poisoned"))?;
        for resource_spans in request.into_inner().resource_spans {
            for scope_spans in resource_spans.scope_spans {
                for span in scope_spans.spans {
                    let attributes = span
                        .attributes
                        .into_iter()
                        .map(|attribute| {
                            let value = match attribute.value.and_then(|value| value.value) {
                                Some(Value::StringValue(text)) => text,
                                Some(Value::IntValue(number)) => number.to_string(),
                                Some(other) => format!("{other:?}"),
                                None => String::new(),
                            };
                            (attribute.key, value)
                        })
                        .collect();
                    received.push((span.name, attributes));
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_the_otlp_collector_and_sigterm_exits_cleanly() {
    let received: Received = Arc::default();
    let collector_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let collector_address = collector_listener.local_addr().expect("address");
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(Collector(Arc::clone(&received))))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(
                collector_listener,
            )),
    );

    let data_dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_dialogwatch"))
        .args([
            "serve",
            "--workers",
            "1",
            "--metrics-listen",
            "off",
            "--listen",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(data_dir.path())
        .arg("--otlp-endpoint")
        .arg(format!("http://{collector_address}"))
        .env("DIALOGWATCH_LOG", "info")
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start server");

    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("endpoint");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let channel = loop {
        if let Ok(channel) = endpoint.connect().await {
            break channel;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "server never came up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut articles = ArticleServiceClient::new(channel);
    let (_, text, _) = dev_corpus().into_iter().next().expect("a dev article");
    let accepted = articles
        .submit_article(text_request(&text, None))
        .await
        .expect("submit")
        .into_inner();
    let article = wait_until_settled(&mut articles, &accepted.article_id).await;
    assert_eq!(article.state(), proto::ArticleState::Done);

    let terminated = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("send SIGTERM");
    assert!(terminated.success());
    let exit = tokio::task::spawn_blocking(move || server.wait())
        .await
        .expect("wait task")
        .expect("server exit status");
    assert!(exit.success(), "graceful exit on SIGTERM: {exit:?}");

    let spans = received
        .lock()
        .map(|spans| spans.clone())
        .unwrap_or_default();
    assert!(
        spans
            .iter()
            .any(|(name, _)| name == "/dialogwatch.v1.ArticleService/SubmitArticle"),
        "an RPC span: {:?}",
        spans.iter().map(|(name, _)| name).collect::<Vec<_>>()
    );
    assert!(
        spans
            .iter()
            .any(|(name, attributes)| name == "article.process"
                && attributes
                    .iter()
                    .any(|(key, value)| key == "article_id" && *value == accepted.article_id)),
        "a per-article span carrying the article id"
    );
}
