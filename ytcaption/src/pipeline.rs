//! Pipeline (being written).

/// Placeholder.
pub struct Pipeline;
/// Placeholder.
pub struct PipelineBuilder;
/// Placeholder.
pub struct JobFilter;
