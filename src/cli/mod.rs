//! Command-line types (clap) and the glue that turns arguments into calls on the library.
