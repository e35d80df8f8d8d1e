//! The `rempart` binary (being written).

mod cli;
mod commands;

fn main() {}
