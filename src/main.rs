use std::process::ExitCode;

use clap::Parser;
use roster::config::{Cli, Command, Settings, explain};
use roster::http;
use roster::service::SweepOptions;
use roster::startup::{Application, open_service, shutdown_signal};
use roster::telemetry::{ErrorChain, Telemetry};

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
    if let Err(line) = cli.settings.check() {
        eprintln!("{line}");
        return ExitCode::from(2);
    }
    match cli.command {
        Some(Command::Openapi) => {
            println!("{}", http::openapi_document().spec());
            ExitCode::SUCCESS
        }
        Some(Command::SweepOrphans { dry_run, grace }) => {
            let options = SweepOptions {
                grace: grace.unwrap_or(cli.settings.orphan_grace),
                dry_run,
            };
            sweep_once(&cli.settings, options).await
        }
        Some(Command::Serve) | None => serve(&cli.settings).await,
    }
}

async fn serve(settings: &Settings) -> ExitCode {
    let telemetry = match Telemetry::install(settings.log_format) {
        Ok(telemetry) => telemetry,
        Err(error) => {
            eprintln!("roster: {}", ErrorChain(&error));
            return ExitCode::FAILURE;
        }
    };
    let application = match Application::build(settings).await {
        Ok(application) => application,
        Err(error) => {
            eprintln!("roster: {}", ErrorChain(&error));
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
            tracing::error!(error = %ErrorChain(&error), "server failed");
            ExitCode::FAILURE
        }
    };
    // The exporter's blocking flush must not run on a runtime worker.
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    exit
}

/// One sweep; what it removed goes to standard output, one key a line, then a summary.
async fn sweep_once(settings: &Settings, options: SweepOptions) -> ExitCode {
    let service = match open_service(settings).await {
        Ok(service) => service,
        Err(error) => {
            eprintln!("roster: {}", ErrorChain(&error));
            return ExitCode::FAILURE;
        }
    };
    match service.sweep_orphans(options).await {
        Ok(report) => {
            let verb = if options.dry_run {
                "would remove"
            } else {
                "removed"
            };
            let listed = if options.dry_run {
                &report.orphans
            } else {
                &report.removed
            };
            for key in listed {
                println!("{verb} {key}");
            }
            println!(
                "{} orphan(s) older than {} found, {} removed",
                report.orphans.len(),
                humantime::format_duration(options.grace),
                report.removed.len()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("roster: orphan sweep failed: {}", ErrorChain(&error));
            ExitCode::FAILURE
        }
    }
}
