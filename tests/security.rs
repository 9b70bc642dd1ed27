//! Bearer-token scopes, TLS and mutual TLS, against the real server.

use crate::common::{store_config, text_request, TestServer};
use dialogwatch::auth::{AuthConfig, Scope};
use dialogwatch::client::ClientOptions;
use dialogwatch::proto;
use dialogwatch::proto::article_service_client::ArticleServiceClient;
use dialogwatch::proto::worker_service_client::WorkerServiceClient;
use dialogwatch::server::ServerTls;
use dialogwatch::ServerConfig;
use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use tonic::Code;

const SUBMIT_TOKEN: &str = "submit-token-0123456789";
const WORKER_TOKEN: &str = "worker-token-0123456789";
const READ_TOKEN: &str = "reader-token-0123456789";

fn auth(open_reads: bool) -> AuthConfig {
    let mut config = AuthConfig::open()
        .with_token(SUBMIT_TOKEN, &[Scope::Submit])
        .with_token(WORKER_TOKEN, &[Scope::Worker])
        .with_token(READ_TOKEN, &[Scope::Read]);
    config.open_reads = open_reads;
    config
}

async fn start_with_auth(data_dir: &std::path::Path, open_reads: bool) -> TestServer {
    let config = ServerConfig {
        workers: 0,
        auth: auth(open_reads),
        ..ServerConfig::default()
    };
    TestServer::start_with(store_config(data_dir), config).await
}

fn client_options(server: &TestServer, token: Option<&str>) -> ClientOptions {
    ClientOptions {
        token: token.map(str::to_string),
        ..ClientOptions::plain(server.url())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_grant_exactly_their_scopes() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let server = start_with_auth(data_dir.path(), true).await;
    let submit = |token: Option<&'static str>| {
        let options = client_options(&server, token);
        async move {
            let channel = options.connect().await.expect("connect");
            ArticleServiceClient::new(channel)
                .submit_article(text_request("Hội đàm quốc phòng.", None))
                .await
        }
    };
    assert_eq!(
        submit(None).await.expect_err("no token").code(),
        Code::Unauthenticated
    );
    assert_eq!(
        submit(Some("wrong-token-0123456789"))
            .await
            .expect_err("unknown")
            .code(),
        Code::Unauthenticated
    );
    assert_eq!(
        submit(Some(WORKER_TOKEN))
            .await
            .expect_err("wrong scope")
            .code(),
        Code::PermissionDenied
    );
    let accepted = submit(Some(SUBMIT_TOKEN))
        .await
        .expect("submit scope")
        .into_inner();

    // Reads are open by configuration.
    let reader = client_options(&server, None)
        .connect()
        .await
        .expect("connect");
    ArticleServiceClient::new(reader)
        .get_article(proto::GetArticleRequest {
            article_id: accepted.article_id.clone(),
        })
        .await
        .expect("open read");

    let lease = |token: &'static str| {
        let options = client_options(&server, Some(token));
        async move {
            let channel = options.connect().await.expect("connect");
            WorkerServiceClient::new(channel)
                .lease_articles(proto::LeaseArticlesRequest {
                    worker_id: "w".into(),
                    max_articles: 1,
                    lease_seconds: 5,
                    wait_millis: 0,
                })
                .await
        }
    };
    assert_eq!(
        lease(SUBMIT_TOKEN)
            .await
            .expect_err("submit cannot lease")
            .code(),
        Code::PermissionDenied
    );
    let leased = lease(WORKER_TOKEN)
        .await
        .expect("worker scope")
        .into_inner();
    assert_eq!(leased.articles.len(), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_reads_need_a_read_token() {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let server = start_with_auth(data_dir.path(), false).await;
    let read = |token: Option<&'static str>| {
        let options = client_options(&server, token);
        async move {
            let channel = options.connect().await.expect("connect");
            dialogwatch::proto::dialogue_service_client::DialogueServiceClient::new(channel)
                .list_dialogues(proto::ListDialoguesRequest::default())
                .await
        }
    };
    assert_eq!(
        read(None).await.expect_err("closed").code(),
        Code::Unauthenticated
    );
    assert_eq!(
        read(Some(SUBMIT_TOKEN)).await.expect_err("scope").code(),
        Code::PermissionDenied
    );
    read(Some(READ_TOKEN)).await.expect("read scope");
    server.stop().await;
}

/// A CA, a server certificate for `localhost`, and a client certificate, as PEM files.
struct Pki {
    directory: tempfile::TempDir,
    ca_pem: String,
    server_cert_pem: String,
    server_key_pem: String,
}

impl Pki {
    fn new() -> Pki {
        let ca_key = KeyPair::generate().expect("ca key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).expect("ca cert");

        let server_key = KeyPair::generate().expect("server key");
        let mut server_params =
            CertificateParams::new(vec!["localhost".to_string()]).expect("params");
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server_params
            .signed_by(&server_key, &ca, &ca_key)
            .expect("server cert");

        let client_key = KeyPair::generate().expect("client key");
        let mut client_params =
            CertificateParams::new(vec!["worker-1".to_string()]).expect("params");
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = client_params
            .signed_by(&client_key, &ca, &ca_key)
            .expect("client cert");

        let directory = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, contents: &str| {
            std::fs::write(directory.path().join(name), contents).expect("write pem");
        };
        write("ca.pem", &ca.pem());
        write("client.pem", &client_cert.pem());
        write("client.key", &client_key.serialize_pem());
        Pki {
            ca_pem: ca.pem(),
            server_cert_pem: server_cert.pem(),
            server_key_pem: server_key.serialize_pem(),
            directory,
        }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.directory.path().join(name)
    }

    fn server_tls(&self, mutual: bool) -> ServerTls {
        ServerTls {
            certificate_pem: self.server_cert_pem.clone().into_bytes(),
            private_key_pem: self.server_key_pem.clone().into_bytes(),
            client_ca_pem: mutual.then(|| self.ca_pem.clone().into_bytes()),
        }
    }
}

async fn health_over(options: &ClientOptions) -> Result<(), String> {
    let channel = options.connect().await.map_err(|error| error.to_string())?;
    tonic_health::pb::health_client::HealthClient::new(channel)
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .map(|_| ())
        .map_err(|status| status.to_string())
}

fn tls_options(server: &TestServer, pki: &Pki) -> ClientOptions {
    ClientOptions {
        tls_ca: Some(pki.path("ca.pem")),
        tls_domain: Some("localhost".to_string()),
        ..ClientOptions::plain(format!("https://{}", server.address))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_clients_that_trust_the_ca() {
    let pki = Pki::new();
    let data_dir = tempfile::tempdir().expect("tempdir");
    let config = ServerConfig {
        workers: 0,
        tls: Some(pki.server_tls(false)),
        ..ServerConfig::default()
    };
    let server = TestServer::start_with(store_config(data_dir.path()), config).await;
    health_over(&tls_options(&server, &pki))
        .await
        .expect("trusted TLS works");
    let plaintext = ClientOptions::plain(server.url());
    assert!(
        health_over(&plaintext).await.is_err(),
        "plaintext is refused"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_requires_a_client_certificate() {
    let pki = Pki::new();
    let data_dir = tempfile::tempdir().expect("tempdir");
    let config = ServerConfig {
        workers: 0,
        tls: Some(pki.server_tls(true)),
        ..ServerConfig::default()
    };
    let server = TestServer::start_with(store_config(data_dir.path()), config).await;
    let without_certificate = tls_options(&server, &pki);
    assert!(
        health_over(&without_certificate).await.is_err(),
        "no client certificate"
    );
    let with_certificate = ClientOptions {
        tls_cert: Some(pki.path("client.pem")),
        tls_key: Some(pki.path("client.key")),
        ..tls_options(&server, &pki)
    };
    health_over(&with_certificate)
        .await
        .expect("client certificate accepted");
    server.stop().await;
}
