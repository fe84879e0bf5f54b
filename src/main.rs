use std::process::ExitCode;

use clap::Parser;
use roster::config::{Cli, Command, explain};
use roster::http;
use roster::startup::{Application, shutdown_signal};
use roster::telemetry::Telemetry;

/// jemalloc: measured here, glibc's malloc and free took a fifth of a listing's CPU, and
/// glibc's arenas kept the peak of concurrent uploads resident long after they ended.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => match explain(&error) {
            Some(line) => {
                eprintln!("{line}");
                return ExitCode::from(2);
            }
            None => error.exit(),
        },
    };
    if let Some(Command::Openapi) = cli.command {
        println!("{}", http::openapi_service().spec());
        return ExitCode::SUCCESS;
    }

    let telemetry = match Telemetry::install(cli.settings.log_format) {
        Ok(telemetry) => telemetry,
        Err(error) => {
            eprintln!("roster: {error}");
            return ExitCode::FAILURE;
        }
    };
    let application = match Application::build(&cli.settings).await {
        Ok(application) => application,
        Err(error) => {
            eprintln!("roster: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = application.run_until_stopped(shutdown_signal()).await;
    let exit = match outcome {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    };
    // The exporter's blocking flush must not run on a runtime worker.
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    exit
}
