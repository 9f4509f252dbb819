use clap::Parser;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    match zhiban::cli::run(zhiban::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zhiban: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
