//! The `ytcaption` command.
fn main() {}
