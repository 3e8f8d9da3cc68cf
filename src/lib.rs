//! convstats: customer-support conversation events → reporting metrics.
pub mod elasticsearch;
pub mod office_hours;
