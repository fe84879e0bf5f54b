use std::process::ExitCode;

use clap::Parser;
use roster::config::{Cli, Command, explain};
use roster::startup::{Application, shutdown_signal};
use roster::{http, telemetry};

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

    telemetry::install(telemetry::subscriber(cli.settings.log_format));
    let application = match Application::build(&cli.settings).await {
        Ok(application) => application,
        Err(error) => {
            eprintln!("roster: {error}");
            return ExitCode::FAILURE;
        }
    };
    match application.run_until_stopped(shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}
