//! The `dialogwatch` binary: parse the command line, set up logs and traces, run.

use anyhow::Context;
use clap::Parser;
use dialogwatch::cli::{execute, Cli};

fn main() -> anyhow::Result<()> {
    dialogwatch::allocator::limit_malloc_arenas();
    let cli = Cli::parse();
    let telemetry = dialogwatch::telemetry::init(
        cli.log_format,
        &cli.log,
        cli.otlp_endpoint
            .as_deref()
            .filter(|endpoint| !endpoint.trim().is_empty()),
    )
    .context("setting up logs and traces")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let outcome = runtime.block_on(execute(cli.command, shutdown_signal()));
    drop(runtime);
    telemetry.shutdown();
    outcome?;
    Ok(())
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(error) => {
                    tracing::error!(%error, "cannot listen for SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::select! {
            _ = interrupt => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
