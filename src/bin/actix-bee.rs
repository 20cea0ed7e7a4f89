//! The `actix-bee` command; see [`actix_bee::cli`].

fn main() -> std::process::ExitCode {
    actix_bee::cli::main()
}
