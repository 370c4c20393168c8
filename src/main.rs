use clap::Parser;

fn main() {
    trellis::allocator::tune();
    let cli = trellis::cli::Cli::parse();
    if let Err(error) = trellis::cli::run(cli) {
        // One line, no backtrace: the message says what to fix.
        let chain: Vec<String> = error.chain().map(|c| c.to_string()).collect();
        eprintln!("trellis: {}", chain.join(": "));
        std::process::exit(1);
    }
}
