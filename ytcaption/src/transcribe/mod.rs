//! transcribe
