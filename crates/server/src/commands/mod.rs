//! One module per subcommand.

pub mod demo;
pub mod gen;
pub mod migrate;
pub mod serve;
