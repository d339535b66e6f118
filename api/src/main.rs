//! `parley [serve|migrate|print-schema]`.

use std::process::ExitCode;

use api::{Application, Cli, Command, graphql, startup, telemetry};
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if command == Command::PrintSchema {
        print!("{}", graphql::sdl());
        return ExitCode::SUCCESS;
    }
    telemetry::init(cli.config.log_format);
    let result = match command {
        Command::Migrate => startup::open_database(&cli.config).await.map(|_| {
            tracing::info!("migrations applied");
        }),
        _ => match Application::build(cli.config).await {
            Ok(app) => app.run_until_stopped(startup::shutdown_signal()).await,
            Err(err) => Err(err),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "parley failed");
            ExitCode::FAILURE
        }
    }
}
