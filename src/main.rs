//! The `paydesk` binary: its subcommands are `paydesk::commands`.

/// mimalloc: a server that allocates per request and per field spends less in it than in the system allocator,
/// and it returns memory to the system after bursts of sockets. Built with its `override` feature, it also serves
/// the `malloc` of the C code linked in (the bundled SQLite above all). The figures are in bench/README.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    paydesk::commands::main()
}
