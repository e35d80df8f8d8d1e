//! One module per subcommand.

pub mod demo;
pub mod generate;
pub mod migrate;
pub mod serve;
